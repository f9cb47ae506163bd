// The UUID patterns, in one place: the request accepts either case and lowercases the id, the
// worker's re-check of a job accepts the normalised (lowercase) form only.

/** A UUID in either case, as a client may write it. */
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A UUID as the request normalised it (lowercase). */
export const LOWERCASE_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
