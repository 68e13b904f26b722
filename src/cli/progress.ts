// A one-line progress display on a terminal (rewritten in place), or a line every few seconds
// (and the last one) when the output is a file or a pipe.
export function progressLine(stream: NodeJS.WriteStream, everyMs = 2_000): (text: string, final?: boolean) => void {
  let last = 0;
  return (text, final = false) => {
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (final || now - last >= everyMs) {
      last = now;
      stream.write(`${text}\n`);
    }
  };
}
