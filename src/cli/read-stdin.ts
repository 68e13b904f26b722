/**
 * Standard input as text (UTF-8), without the byte-order mark some editors write at the start of a
 * file (`segments evaluate < doc.json`): JSON does not allow one, and a user cannot see it.
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.startsWith('\ufeff') ? text.slice(1) : text;
}
