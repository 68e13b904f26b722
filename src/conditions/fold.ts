// Case-insensitive text, as the contract defines it: NFKC, then lower case. No trimming, no accent
// stripping. The same function folds condition values and, at ingest, the copies the SQL compares.
export function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** A text is missing when it is empty after trimming (JavaScript's `trim` set of white space). */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
