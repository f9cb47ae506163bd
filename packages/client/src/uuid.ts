import { v7 } from 'uuid';

/**
 * A UUIDv7 (RFC 9562, the `uuid` package, bundled into this package's build): 48 bits of Unix
 * milliseconds, then a counter seeded at random each millisecond and incremented within it (§6.2
 * method 1). Ids made by one process therefore sort in the order they were made, even thousands
 * within one millisecond (track(pageview) then track(cta click) keep their order), and sort by
 * time across processes, which keeps the server's unique index on `id` append-mostly.
 */
export const uuidv7: () => string = v7;
