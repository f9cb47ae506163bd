// Client secrets are stored only as salted scrypt hashes and compared in constant time.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { FairSemaphore } from './fair-semaphore';

const N = 16_384;
const R = 8;
const P = 1;
const KEY_LEN = 32;

function scrypt(secret: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(secret, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, KEY_LEN, { N, r: R, p: P });
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * Token requests hash at most this many secrets at once per process (each scrypt takes ~40 ms of a
 * libuv thread and 16 MiB): a flood of guesses cannot fill the thread pool that every other token
 * request (and fs/dns work) needs.
 */
const MAX_CONCURRENT_VERIFICATIONS = 2;
/** Verifications one source may have waiting; beyond, its requests are refused (QueueFullError). */
export const MAX_WAITING_PER_SOURCE = 16;
/**
 * Verifications waiting in all; beyond, every new request is refused (QueueFullError). Served
 * round-robin, a newcomer waits at most this many turns: with ~40 ms a hash and two at once,
 * about 2.5 s in the worst case, however many sources flood.
 */
export const MAX_WAITING_VERIFICATIONS = 128;
const verifications = new FairSemaphore(
  MAX_CONCURRENT_VERIFICATIONS,
  MAX_WAITING_PER_SOURCE,
  MAX_WAITING_VERIFICATIONS,
);

/**
 * verifySecret with bounded concurrency, fair across sources (round-robin): a flood from one
 * address delays another address's token request by at most one turn. Throws QueueFullError when
 * `source` already has MAX_WAITING_PER_SOURCE verifications waiting, or the line is full.
 */
export function verifySecretFairly(source: string, secret: string, stored: string): Promise<boolean> {
  return verifications.run(source, () => verifySecret(secret, stored));
}

/** A dummy hash: unknown client ids cost the same time as known ones (no user enumeration by timing). */
export const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function newClientId(): string {
  return `cli_${randomBytes(12).toString('hex')}`;
}
