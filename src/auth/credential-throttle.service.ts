import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { ApiError } from '../common/api-error';
import { REDIS } from '../redis/redis.module';

/** Failed secrets per client id per window beyond which that id is refused until the window ends. */
export const MAX_FAILURES_PER_CLIENT = 10;
/** Failed secrets per source address per window beyond which that address is refused. */
export const MAX_FAILURES_PER_SOURCE = 100;
const WINDOW_S = 60;
const PREFIX = 'the-eye:auth-failures';
/** Longer ids are refused without a lookup; they are not worth a counter each. */
const MAX_COUNTED_ID = 64;

/**
 * Slows credential guessing. Failed token requests are counted in Redis, per client id and per
 * source address, in windows of one minute that start at the first failure, so every API process
 * agrees. check() runs before the secret is hashed: a blocked guesser costs one Redis round trip,
 * no scrypt. While Redis is unreachable the counters are skipped (hashing stays bounded anyway).
 */
@Injectable()
export class CredentialThrottle {
  private readonly logger = new Logger(CredentialThrottle.name);

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Throws 429 with Retry-After while the client id or the source is over its failure limit. */
  async check(clientId: string, source: string): Promise<void> {
    const idKey = this.idKey(clientId);
    const sourceKey = `${PREFIX}:source:${source}`;
    let replies: [Error | null, unknown][] | null;
    try {
      const p = this.redis.pipeline();
      if (idKey) p.get(idKey).pttl(idKey);
      replies = await p.get(sourceKey).pttl(sourceKey).exec();
    } catch (err) {
      this.logger.warn(`credential-guessing counters unavailable: ${(err as Error).message}`);
      return;
    }
    if (!replies) return;
    const values = replies.map(([, v]) => v);
    if (idKey && Number(values[0]) >= MAX_FAILURES_PER_CLIENT) {
      throw blocked(`More than ${MAX_FAILURES_PER_CLIENT} failed secrets for this client id`, values[1]);
    }
    const at = idKey ? 2 : 0;
    if (Number(values[at]) >= MAX_FAILURES_PER_SOURCE) {
      throw blocked(
        `More than ${MAX_FAILURES_PER_SOURCE} failed token requests from this address`,
        values[at + 1],
      );
    }
  }

  /** Counts one failed secret for the client id and the source. */
  async failed(clientId: string, source: string): Promise<void> {
    const idKey = this.idKey(clientId);
    const sourceKey = `${PREFIX}:source:${source}`;
    try {
      const p = this.redis.pipeline();
      // SET NX EX starts the window at the first failure; INCR keeps its expiry.
      if (idKey) p.set(idKey, 0, 'EX', WINDOW_S, 'NX').incr(idKey);
      await p.set(sourceKey, 0, 'EX', WINDOW_S, 'NX').incr(sourceKey).exec();
    } catch (err) {
      this.logger.warn(`failed token request not counted: ${(err as Error).message}`);
    }
  }

  private idKey(clientId: string): string | null {
    return clientId.length <= MAX_COUNTED_ID ? `${PREFIX}:client:${clientId}` : null;
  }
}

function blocked(what: string, pttl: unknown): ApiError {
  const ms = typeof pttl === 'number' && pttl > 0 ? pttl : WINDOW_S * 1000;
  const seconds = Math.ceil(ms / 1000);
  return ApiError.rateLimited(`${what} within a minute; retry after ${seconds} s`, seconds);
}
