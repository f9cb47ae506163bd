// UUIDs in one place: the patterns (the request accepts either case and lowercases the id, the
// worker's re-check of a job accepts the normalised form only) and the generators.
import { createHash, hash } from 'node:crypto';
import { v7 } from 'uuid';

/** A UUID in either case, as a client may write it. */
export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A UUID as the request normalised it (lowercase). */
export const LOWERCASE_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * RFC 9562 UUIDv7 (the `uuid` package): 48 bits of Unix milliseconds, then a counter seeded at
 * random each millisecond and incremented within it (§6.2 method 1), so ids made in one process
 * sort in the order they were made, even thousands within one millisecond.
 */
export const uuidv7: () => string = v7;

/** Namespace + name, reused: the one-shot hash of a buffer costs a third of a Hash object's. */
const nameBuffer = Buffer.allocUnsafe(1024);
const HEX_VARIANT = '89ab';

/**
 * RFC 9562 UUIDv5 (SHA-1, name-based): the same (namespace, name) always gives the same id. Not the
 * `uuid` package's v5, which gives the same ids (a unit test compares them) but costs about four
 * times as much per id (a Hash object and three copies), on the Segment route's per-message path.
 * The name is UTF-8 encoded by Buffer (a lone surrogate becomes U+FFFD; the package's own encoder
 * throws on one).
 */
export function uuidv5(name: string, namespace: Buffer): string {
  let x: string;
  if (name.length * 3 <= nameBuffer.length - 16) {
    namespace.copy(nameBuffer, 0);
    const end = 16 + nameBuffer.write(name, 16, 'utf8');
    x = hash('sha1', nameBuffer.subarray(0, end), 'hex');
  } else x = createHash('sha1').update(namespace).update(name, 'utf8').digest('hex');
  return (
    `${x.slice(0, 8)}-${x.slice(8, 12)}-5${x.slice(13, 16)}-` +
    `${HEX_VARIANT[parseInt(x[16], 16) & 3]}${x.slice(17, 20)}-${x.slice(20, 32)}`
  );
}
