import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one randomFillSync call per 256 ids instead of one per id.
const POOL_IDS = 256;
const pool = Buffer.alloc(10 * POOL_IDS);
let poolOffset = pool.length;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids sort by creation
 * time, which keeps the server's unique index on `id` append-mostly.
 */
export function uuidv7(now = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  const hi = Math.floor(now / 0x10000); // top 32 of the 48 timestamp bits
  const lo = now % 0x10000;
  return (
    hi.toString(16).padStart(8, '0') +
    '-' +
    lo.toString(16).padStart(4, '0') +
    '-' +
    HEX[0x70 | (pool[r] & 0x0f)] +
    HEX[pool[r + 1]] +
    '-' +
    HEX[0x80 | (pool[r + 2] & 0x3f)] +
    HEX[pool[r + 3]] +
    '-' +
    HEX[pool[r + 4]] +
    HEX[pool[r + 5]] +
    HEX[pool[r + 6]] +
    HEX[pool[r + 7]] +
    HEX[pool[r + 8]] +
    HEX[pool[r + 9]]
  );
}
