// Case-insensitive text, as the contract defines it: NFKC, then lower case. No trimming, no accent
// stripping. The same function folds condition values and, at ingest, the copies the SQL compares.
export function fold(text: string): string {
  // NFKC leaves ASCII unchanged, and most stored text is ASCII: skipping normalize() there is the
  // largest single saving when a contact is prepared (bench:eval, preparation).
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return text.normalize('NFKC').toLowerCase();
  return text.toLowerCase();
}

/** A text is missing when it is empty after trimming (JavaScript's `trim` set of white space). */
export function isBlank(text: string): boolean {
  const first = text.charCodeAt(0);
  if (first > 0x20 && first < 0x7f) return false; // a visible ASCII character first: not blank, no trim() copy
  return text.trim().length === 0;
}

/**
 * Text that a database can store exactly: well-formed Unicode (no lone surrogates, which UTF-8
 * cannot encode) and no NUL (PostgreSQL's text cannot hold it). Null when fine, else the problem.
 */
export function unstorableText(text: string): string | null {
  if (text.includes('\u0000')) return 'a text may not contain the NUL character (U+0000)';
  if (!text.isWellFormed()) return 'a text must be well-formed Unicode (it has a lone surrogate)';
  return null;
}
