import Redis from 'ioredis';
import { Client } from 'pg';
import { QUEUED_EVENTS_KEY } from '../../src/queue/queue.contract';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env';
import { waitFor } from './app';

export async function withDb<T>(fn: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/**
 * Waits until none of `ids` is still queued (stored or quarantined by the worker), whichever
 * client sent it (a queued mark is "<id>:<client id>").
 */
export async function waitProcessed(
  ids: string[],
  redisUrl = TEST_REDIS_URL,
  timeoutMs = 20_000,
): Promise<void> {
  const redis = new Redis(redisUrl);
  const waiting = new Set(ids.map((id) => id.toLowerCase()));
  try {
    await waitFor(
      async () => {
        if (ids.length === 0) return true;
        const queued = await redis.hkeys(QUEUED_EVENTS_KEY);
        return queued.every((field) => !waiting.has(field.slice(0, 36)));
      },
      timeoutMs,
      `${ids.length} events to be processed`,
    );
  } finally {
    redis.disconnect();
  }
}

/** How many of the events `ids` are stored. */
export function storedCount(ids: string[]): Promise<number> {
  return withDb(async (db) => {
    const r = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM events WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return r.rows[0].n;
  });
}
