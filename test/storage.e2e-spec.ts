import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { EventPartitionsRepository } from '../src/archive/event-partitions.repository';
import { EventsRepository } from '../src/processing/events.repository';
import type { QueuedEvent } from '../src/queue/queue.contract';
import { TEST_DATABASE_URL } from './helpers/env';

/**
 * EventsRepository against the real test database: a transaction larger than one JSON parameter
 * (JsonChunker: the first holds 200 rows) stores and quarantines every row of every chunk, once.
 */
describe('EventsRepository (e2e, real PostgreSQL)', () => {
  const pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  afterAll(() => pool.end());

  const event = (sid: string, i: number): QueuedEvent => ({
    id: randomUUID(),
    session_id: sid,
    category: 'storage-test',
    name: 'chunked',
    data: { i, nested: { list: [i, `${i}`] } },
    timestamp: `2021-03-01T10:00:00.${String(i).padStart(6, '0')}Z`,
    received_at: '2021-03-01T10:00:01.000000Z',
    client_id: 'storage-test',
  });

  const repository = new EventsRepository(pool, new EventPartitionsRepository(pool));
  const store = (valid: QueuedEvent[], rejected: QueuedEvent[]) =>
    repository.store(
      valid,
      rejected.map((e) => ({
        event: e,
        errors: [{ reason: 'payload_invalid' as const, path: '/data', message: 'x' }],
      })),
    );

  it('stores 450 events and quarantines 450 others in one call, each once', async () => {
    const sid = randomUUID();
    const valid = Array.from({ length: 450 }, (_, i) => event(sid, i));
    const rejected = Array.from({ length: 450 }, (_, i) => event(sid, i));
    expect(await store(valid, rejected)).toEqual({ inserted: 450, quarantined: 450 });
    // The same call again (a retried job) adds nothing.
    expect(await store(valid, rejected)).toEqual({ inserted: 0, quarantined: 0 });

    const rows = await pool.query<{ n: number; data_ok: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE data->'nested'->'list'->>1 = data->>'i')::int AS data_ok
         FROM events WHERE session_id = $1`,
      [sid],
    );
    expect(rows.rows[0]).toEqual({ n: 450, data_ok: 450 });
    const session = await pool.query<{ n: number; first: string; last: string }>(
      `SELECT event_count::int AS n, to_char(first_event_at AT TIME ZONE 'UTC', 'US') AS first,
              to_char(last_event_at AT TIME ZONE 'UTC', 'US') AS last FROM sessions WHERE session_id = $1`,
      [sid],
    );
    expect(session.rows[0]).toEqual({ n: 450, first: '000000', last: '000449' });
    const quarantined = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM rejected_events WHERE event_id = ANY($1::uuid[]) AND reasons = '{payload_invalid}'`,
      [rejected.map((e) => e.id)],
    );
    expect(quarantined.rows[0].n).toBe(450);
  });

  it('makes the partition of a day that has none, and stores each id once across days (the ledger)', async () => {
    const day = '2019-07-14';
    await pool.query(`SELECT the_eye_drop_event_partition($1::date)`, [day]);
    const sid = randomUUID();
    const first = { ...event(sid, 1), timestamp: `${day}T12:00:00.000001Z` };
    expect(await store([first], [])).toEqual({ inserted: 1, quarantined: 0 });
    const parts = await pool.query(`SELECT to_regclass($1) IS NOT NULL AS made`, [
      `events_p${day.replace(/-/g, '')}`,
    ]);
    expect(parts.rows[0].made).toBe(true);
    // The same id again with another day's timestamp (another partition), and twice in one batch: not stored.
    const resend = { ...first, timestamp: '2022-02-02T02:02:02.000002Z' };
    const other = event(sid, 2);
    expect(await store([resend, other, { ...other }], [])).toEqual({ inserted: 1, quarantined: 0 });
    const rows = await pool.query(`SELECT id, timestamp FROM events WHERE session_id = $1 ORDER BY seq`, [
      sid,
    ]);
    expect(rows.rows.map((r: { id: string }) => r.id)).toEqual([first.id, other.id]);
    // A quarantined copy of a stored id is refused too (the ledger spans every partition).
    expect(await store([], [resend])).toEqual({ inserted: 0, quarantined: 0 });
  });

  it('makes a missing day once when many transactions need it at the same time', async () => {
    const day = '2019-08-02';
    await pool.query(`SELECT the_eye_drop_event_partition($1::date)`, [day]);
    const many = new Pool({ connectionString: TEST_DATABASE_URL, max: 8 });
    try {
      const partitions = new EventPartitionsRepository(many);
      const stores = new EventsRepository(many, partitions);
      const sid = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores.store([{ ...event(sid, i), timestamp: `${day}T00:00:00.00000${i}Z` }], []),
        ),
      );
      expect(results.map((r) => r.inserted)).toEqual(Array(8).fill(1));
    } finally {
      await many.end();
    }
  });
});
