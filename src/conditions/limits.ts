// The contract's limits; each breach is a validation error that names it.
export const LIMITS = {
  depth: 8,
  rules: 200,
  listElements: 10_000,
  textLength: 1_000,
  relativeAmount: 1_000_000,
  jsonBytes: 1024 * 1024,
} as const;

/** Attribute keys: lower-case, start with a letter, at most 64 characters. */
export const ATTRIBUTE_KEY = /^[a-z][a-z0-9_]{0,63}$/;
