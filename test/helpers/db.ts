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

/**
 * For specs that write `events` with SQL instead of through the worker: the day partitions of
 * [from, to] (UTC days) that `events` needs before rows of those days can go in.
 */
export async function ensurePartitions(db: Pick<Client, 'query'>, from: string, to = from): Promise<void> {
  await db.query(
    `SELECT the_eye_create_event_partition(d::date) FROM generate_series($1::date, $2::date, interval '1 day') AS d`,
    [from.slice(0, 10), to.slice(0, 10)],
  );
}

/**
 * For the same specs, after their inserts: the deduplication ledger's keys of those events, as the
 * worker writes them (lookups by id start at the ledger).
 */
export async function syncLedger(db: Pick<Client, 'query'>): Promise<void> {
  await db.query(
    `INSERT INTO event_ids (id, client_id, timestamp, received_at)
     SELECT id, client_id, timestamp, received_at FROM events ON CONFLICT DO NOTHING`,
  );
}
