// Analytics reads that no stored row, and no analyst, can break: rows stored before the payload
// depth limit existed, pages bounded in bytes, and a pool of their own with a statement timeout.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '../src/prisma/migrator';
import { http, registerClient, startApp, type TestApp, waitFor } from './helpers/app';
import { analystSuite } from './helpers/analyst';
import { ensurePartitions, syncLedger, waitProcessed, withDb } from './helpers/db';
import { TEST_DATABASE_URL } from './helpers/env';
import type { EventPageDto, EventStatusDto } from './helpers/wire';

/** `{"a":{"a":…1…}}` nested `depth` levels: JSON.stringify of its parsed value overflows the stack. */
const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const DEPTH = 10_000;

async function text(url: string, token: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

describe('analytics reads (e2e)', () => {
  const ctx = analystSuite();

  describe('a row whose data nests 10,000 levels (stored before the depth limit existed)', () => {
    const session = `deep-${randomUUID()}`;
    const client = `deep-client-${randomUUID()}`;
    const eventId = randomUUID();
    const rejectedId = randomUUID();

    beforeAll(async () => {
      await withDb(async (db) => {
        await ensurePartitions(db, '2021-07-01');
        await db.query(
          `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
           VALUES ($1, $2, 'deep', 'nest', $3::jsonb, '2021-07-01T00:00:00Z', '2021-07-01T00:00:00Z', $4)`,
          [eventId, session, nested(DEPTH), client],
        );
        await syncLedger(db);
        const raw = `{"id":"${rejectedId}","session_id":"${session}","category":"deep","name":"nest","data":${nested(DEPTH)}}`;
        await db.query(
          `INSERT INTO rejected_events (event_id, session_id, category, name, raw, timestamp, received_at, client_id,
             reasons, errors, rejected_at)
           VALUES ($1, $2, 'deep', 'nest', $3, '2021-07-01T00:00:00Z', '2021-07-01T00:00:00Z', $4,
             '{payload_invalid}', $5::jsonb, '2021-07-01T00:00:01Z')`,
          [
            rejectedId,
            session,
            raw,
            client,
            `[{"reason":"payload_invalid","path":"","message":${JSON.stringify(nested(50))}}]`,
          ],
        );
      });
    });

    it.each([
      ['GET /v1/events?session_id=', () => `/v1/events?session_id=${session}`, () => eventId],
      ['GET /v1/events?client_id=', () => `/v1/events?client_id=${client}`, () => eventId],
      ['GET /v1/sessions/{id}/events', () => `/v1/sessions/${session}/events`, () => eventId],
      ['GET /v1/rejected-events', () => `/v1/rejected-events?client_id=${client}`, () => rejectedId],
      ['GET /v1/events/{id} (stored)', () => `/v1/events/${eventId}`, () => eventId],
      ['GET /v1/events/{id} (quarantined)', () => `/v1/events/${rejectedId}`, () => rejectedId],
    ])('%s serves it whole', async (_route, path, id) => {
      const res = await text(`${ctx.t.url}${path()}`, ctx.reader);
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^application\/json/);
      // Valid JSON (JSON.parse does not recurse in V8), with every level of the payload as stored.
      expect(() => JSON.parse(res.body) as unknown).not.toThrow();
      expect(res.body).toContain(`"id":"${id()}"`);
      expect(res.body.split('{"a"').length - 1).toBeGreaterThanOrEqual(DEPTH);
    });
  });

  it('stops a page at ~4 MB of event JSON and hands out next_cursor, never skipping a row', async () => {
    const session = `big-${randomUUID()}`;
    const ids = await ctx.fx.events(
      Array.from({ length: 6 }, (_, i) => ({
        session_id: session,
        timestamp: `2021-08-01T00:00:0${i}.000000Z`,
        data: { blob: String(i).repeat(900_000) },
      })),
    );
    const first = await text(`${ctx.t.url}/v1/sessions/${session}/events?limit=100`, ctx.reader);
    expect(first.status).toBe(200);
    const page = JSON.parse(first.body) as EventPageDto;
    expect(Buffer.byteLength(first.body)).toBeLessThan(4.2 * 1024 * 1024);
    expect(page.data.map((e) => e.id)).toEqual(ids.slice(0, 4));
    expect(page.next_cursor).toEqual(expect.any(String));
    const rest = await http<EventPageDto>(
      `${ctx.t.url}/v1/sessions/${session}/events?limit=100&cursor=${page.next_cursor}`,
      { token: ctx.reader },
    );
    expect(rest.body.data.map((e) => e.id)).toEqual(ids.slice(4));
    expect(rest.body.next_cursor).toBeNull();
  });

  it('uses the name index for a name alone (every /v1/events filter starts from an index)', async () => {
    const indexes = await withDb(
      async (db) =>
        (
          await db.query<{ tablename: string; indexdef: string }>(
            `SELECT tablename, indexdef FROM pg_indexes WHERE tablename IN ('events', 'event_ids')`,
          )
        ).rows,
    );
    const leading = (table: string): (string | undefined)[] =>
      indexes.filter((i) => i.tablename === table).map((i) => /\("?(\w+)/.exec(i.indexdef)?.[1]);
    for (const column of ['session_id', 'category', 'name', 'client_id', 'timestamp'])
      expect(leading('events')).toContain(column);
    // An event by id: the deduplication ledger's key, then (client_id, timestamp) in its partition.
    expect(leading('event_ids')).toContain('id');
  });
});

describe('analytics on their own pool, with a statement timeout (e2e)', () => {
  // The "replica" is another database of the same server: locking its events table stands for
  // heavy queries that never finish, without touching the database the worker writes to.
  const REPLICA_URL = `${TEST_DATABASE_URL}_replica`;
  let t: TestApp;
  let locker: Client;

  beforeAll(async () => {
    await migrate(REPLICA_URL);
    t = await startApp({
      DATABASE_READ_URL: REPLICA_URL,
      ANALYTICS_POOL_SIZE: '2',
      ANALYTICS_STATEMENT_TIMEOUT: '300ms',
    });
    locker = new Client({ connectionString: REPLICA_URL });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.end();
    await t.close();
    await withDb((db) =>
      db.query(`DROP DATABASE IF EXISTS "${new URL(REPLICA_URL).pathname.slice(1)}" WITH (FORCE)`),
    );
  });

  it('ten stuck queries answer 503 query_timeout while /ready and storage carry on', async () => {
    const reader = (await registerClient(t.url, ['events:read'], 'analyst')).token;
    const writer = (await registerClient(t.url, ['events:write'], 'app')).token;
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    try {
      const started = Date.now();
      const heavy = Array.from({ length: 10 }, (_, i) =>
        http(`${t.url}/v1/events?category=heavy-${i}`, { token: reader }),
      );
      // While the analytics pool is saturated: readiness and the event path use their own pool.
      const ready = await http(`${t.url}/ready`);
      expect(ready.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_000);
      const id = randomUUID();
      const sent = await http(`${t.url}/v1/events`, {
        token: writer,
        json: {
          id,
          session_id: randomUUID(),
          category: 'page interaction',
          name: 'pageview',
          data: { host: 'example.com', path: '/' },
          timestamp: new Date().toISOString(),
        },
      });
      expect(sent.status).toBe(202);
      await waitProcessed([id]);
      const status = await waitFor(async () => {
        const res = await http<EventStatusDto>(`${t.url}/v1/events/${id}`, { token: writer });
        return res.body.status === 'stored' ? res.body : undefined;
      });
      expect(status.status).toBe('stored');

      for (const res of await Promise.all(heavy)) {
        expect(res.status).toBe(503);
        expect(res.body).toEqual({ code: 'query_timeout', message: expect.stringMatching(/from\/to/) });
      }
    } finally {
      await locker.query('ROLLBACK');
    }
    // The pool recovers: the same query answers once the lock is gone.
    expect((await http(`${t.url}/v1/events?category=heavy-0`, { token: reader })).status).toBe(200);
  });
});
