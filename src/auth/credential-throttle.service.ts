import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { ApiError } from '../common/api-error';
import { REDIS } from '../redis/redis.module';

/** Failed secrets for one client id from one address per window beyond which that pair is refused. */
export const MAX_FAILURES_PER_CLIENT = 10;
/** Failed secrets from one source address per window beyond which that address is refused. */
export const MAX_FAILURES_PER_SOURCE = 100;
const WINDOW_S = 60;
const PREFIX = 'the-eye:auth-attempts';
/** Longer ids are refused without a lookup; they are not worth a counter each. */
const MAX_COUNTED_ID = 64;

/**
 * Counts one attempt on each key (KEYS) and answers [count, pttl] per key. A key's window starts
 * with its first attempt; later increments keep its expiry. In one script, so that no key can
 * be left without an expiry by an expiry that falls between two commands.
 */
const COUNT_ATTEMPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 or redis.call('PTTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
  out[#out + 1] = n
  out[#out + 1] = redis.call('PTTL', key)
end
return out`;

/** Takes back an attempt that turned out not to be a failure (an existing key only: no key without expiry). */
const UNCOUNT_ATTEMPT = `
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0`;

/**
 * Slows credential guessing. Every token request is counted in Redis (so every API process
 * agrees) BEFORE its secret is hashed, per (client id, source address) and per source address,
 * in windows of one minute that start at the first attempt; an attempt over a limit is refused
 * (429) at once, without hashing, so concurrent guesses cannot all slip under the limit. A
 * successful attempt is taken back: only failures stay counted.
 *
 * The per-id counter is per address on purpose: a stranger's failures, from wherever, never block
 * the owner's own address. Across addresses there is no per-id refusal (it would hand anyone who
 * knows a client id, which the dashboard shows, a way to lock its owner out); what bounds a
 * guesser with many addresses is the per-address limits, the bounded hashing (secret-hash.ts) and
 * the secrets themselves (256 random bits).
 *
 * While Redis is unreachable the counters are skipped (hashing stays bounded anyway).
 */
@Injectable()
export class CredentialThrottle {
  private readonly logger = new Logger(CredentialThrottle.name);

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /**
   * Counts one attempt; throws 429 with Retry-After when the pair or the source is over its limit
   * (the attempt must then not be tried).
   */
  async attempt(clientId: string, source: string): Promise<void> {
    const keys = this.keys(clientId, source);
    let replies: unknown;
    try {
      replies = await this.redis.eval(COUNT_ATTEMPT, keys.length, ...keys, WINDOW_S);
    } catch (err) {
      this.logger.warn(`credential-guessing counters unavailable: ${(err as Error).message}`);
      return;
    }
    if (!Array.isArray(replies)) return;
    const values = replies.map(Number);
    // keys[0] is the source, keys[1] (if any) the pair.
    if (keys.length > 1 && values[2] > MAX_FAILURES_PER_CLIENT) {
      throw blocked(
        `More than ${MAX_FAILURES_PER_CLIENT} failed secrets for this client id from this address`,
        values[3],
      );
    }
    if (values[0] > MAX_FAILURES_PER_SOURCE) {
      throw blocked(
        `More than ${MAX_FAILURES_PER_SOURCE} failed token requests from this address`,
        values[1],
      );
    }
  }

  /** Takes back an attempt counted by attempt() that was not a failed secret (it succeeded, or was never tried). */
  async uncount(clientId: string, source: string): Promise<void> {
    const keys = this.keys(clientId, source);
    try {
      await this.redis.eval(UNCOUNT_ATTEMPT, keys.length, ...keys);
    } catch (err) {
      this.logger.warn(`token request not taken back: ${(err as Error).message}`);
    }
  }

  private keys(clientId: string, source: string): string[] {
    const keys = [`${PREFIX}:source:${source}`];
    if (clientId.length <= MAX_COUNTED_ID) keys.push(`${PREFIX}:pair:${source}:${clientId}`);
    return keys;
  }
}

function blocked(what: string, pttl: number): ApiError {
  const ms = pttl > 0 ? pttl : WINDOW_S * 1000;
  const seconds = Math.ceil(ms / 1000);
  return ApiError.rateLimited(`${what} within a minute; retry after ${seconds} s`, seconds);
}
