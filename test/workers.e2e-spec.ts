import Queue from 'bull';
import { randomUUID } from 'node:crypto';
import {
  EVENTS_QUEUE,
  INGEST_JOB,
  QUEUE_PREFIX,
  QUEUED_EVENTS_KEY,
  queuedField,
  type QueuedEvent,
} from '../src/queue/queue.contract';
import { http, registerClient, startApp, type TestApp, waitFor } from './helpers/app';
import { ensurePartitions, waitProcessed, withDb } from './helpers/db';
import { spawnService, type ServiceProcess } from './helpers/process';
import { RedisServer } from './helpers/redis-server';

function events(sessionIds: string[], perSession: number): QueuedEvent[] {
  const out: QueuedEvent[] = [];
  for (const sid of sessionIds) {
    for (let i = 0; i < perSession; i++) {
      out.push({
        id: randomUUID(),
        session_id: sid,
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'example.com', path: `/${i}` },
        timestamp: `2021-01-01T09:15:27.${String(i).padStart(6, '0')}Z`,
        received_at: new Date().toISOString().replace('Z', '000Z'),
        client_id: 'race-test',
      });
    }
  }
  return out;
}

describe('workers (e2e, real worker processes, private redis-server)', () => {
  let redis: RedisServer;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
  });
  afterAll(() => redis.stop());

  it('two workers racing on the same ids store each event once and count each session exactly', async () => {
    const sessions = [randomUUID(), randomUUID(), randomUUID()];
    const batch = events(sessions, 100);
    const queue = new Queue(EVENTS_QUEUE, redis.url, { prefix: QUEUE_PREFIX });
    try {
      const client = queue.client;
      await client.hset(
        QUEUED_EVENTS_KEY,
        ...batch.flatMap((e) => [queuedField(e.id, e.client_id), e.client_id]),
      );
      // Eight jobs holding the same 300 events in different orders, for two workers of 4 slots each.
      for (let j = 0; j < 8; j++) {
        const shuffled = [...batch].sort(() => Math.random() - 0.5);
        await queue.add(INGEST_JOB, { v: 1, events: shuffled }, { removeOnComplete: true });
      }
      workers.push(
        ...(await Promise.all([0, 1].map(() => spawnService({ ROLE: 'worker', REDIS_URL: redis.url })))),
      );
      await waitFor(
        async () =>
          (await queue.getJobCounts()).completed === 0 &&
          (await queue.count()) === 0 &&
          (await queue.getActiveCount()) === 0,
        30_000,
        'the jobs to finish',
      );
      expect((await queue.getJobCounts()).failed).toBe(0);
    } finally {
      await queue.close();
    }
    await withDb(async (db) => {
      const stored = await db.query('SELECT count(*)::int AS n FROM events WHERE id = ANY($1::uuid[])', [
        batch.map((e) => e.id),
      ]);
      expect(stored.rows[0].n).toBe(300);
      const counts = await db.query(
        'SELECT session_id, event_count::int AS n FROM sessions WHERE session_id = ANY($1) ORDER BY session_id',
        [sessions],
      );
      expect(counts.rows.map((r) => r.n)).toEqual([100, 100, 100]);
    });
  });

  it('a worker killed mid-batch loses nothing and duplicates nothing: the job is retried', async () => {
    let api: TestApp | undefined;
    try {
      api = await startApp({ ROLE: 'api', REDIS_URL: redis.url });
      const writer = await registerClient(api.url, ['events:write']);
      const sid = randomUUID();
      const batch = Array.from({ length: 200 }, (_, i) => ({
        session_id: sid,
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'example.com', path: `/${i}` },
        timestamp: `2021-01-01T10:00:00.${String(i).padStart(6, '0')}Z`,
      }));
      await withDb(async (locker) => {
        // The day's partition is made beforehand: this test is about a crash mid-batch, not about
        // the worker making a partition (test/storage.e2e-spec.ts), which would need a lock on
        // `events` that any read elsewhere in the suite can hold up.
        await ensurePartitions(locker, '2021-01-01');
        // The session row exists and is locked by this test: the worker's transaction will
        // insert the events, then block on the session upsert — mid-batch — until we let go.
        await locker.query(
          `INSERT INTO sessions (session_id, first_event_at, last_event_at, event_count, client_ids)
           VALUES ($1, '2021-01-01T10:00:00Z', '2021-01-01T10:00:00Z', 0, '{}')`,
          [sid],
        );
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM sessions WHERE session_id = $1 FOR UPDATE', [sid]);

        const res = await http(`${api!.url}/v1/events/batch`, {
          token: writer.token,
          json: { events: batch },
        });
        expect(res.body.accepted).toBe(200);
        const ids = res.body.results.map((r: { id: string }) => r.id);

        const doomed = await spawnService({ ROLE: 'worker', REDIS_URL: redis.url, JOB_LOCK_MS: '1000' });
        workers.push(doomed);
        await waitFor(
          async () => {
            const waiting = await locker.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'the-eye-worker' AND wait_event_type = 'Lock'",
            );
            return waiting.rows[0].n > 0;
          },
          // A new process on a loaded machine, whose first insert also makes the day's partition.
          30_000,
          'the worker to block inside its transaction',
        );
        await doomed.stop('SIGKILL');
        await locker.query('ROLLBACK');

        workers.push(await spawnService({ ROLE: 'worker', REDIS_URL: redis.url, JOB_LOCK_MS: '1000' }));
        await waitProcessed(ids, redis.url, 30_000);
        const stored = await locker.query('SELECT count(*)::int AS n FROM events WHERE session_id = $1', [
          sid,
        ]);
        expect(stored.rows[0].n).toBe(200);
        const session = await locker.query(
          'SELECT event_count::int AS n, client_ids FROM sessions WHERE session_id = $1',
          [sid],
        );
        expect(session.rows[0]).toEqual({ n: 200, client_ids: [writer.clientId] });
      });
    } finally {
      await api?.close();
    }
  });
});
