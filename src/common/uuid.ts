const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A UUID in either case, as a client may write it (the request lowercases it). */
export const UUID_RE = new RegExp(`^${UUID}$`, 'i');

/** A UUID as the request normalised it (lowercase): what the worker accepts from a job. */
export const LOWERCASE_UUID_RE = new RegExp(`^${UUID}$`);
