// Case-insensitive text, as the contract defines it: NFKC, then lower case. No trimming, no accent
// stripping. The same function folds condition values and, at ingest, the copies the SQL compares.
export function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** A text is missing when it is empty after trimming (JavaScript's `trim` set of white space). */
export function isBlank(text: string): boolean {
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
