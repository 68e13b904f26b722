// Request size limits (docs/architecture.md, API conventions).

/** A JSON body is at most 2 MiB: a condition over the contract's 1 MiB still gets a validation error that names it. */
export const JSON_BODY_LIMIT = 2 * 1024 * 1024;
/** A CSV or JSON Lines upload streams to a file first; up to 1 GiB. */
export const UPLOAD_LIMIT = 1024 * 1024 * 1024;
