import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { eventIdOf } from '../src/segment/segment-mapping';
import { QUEUED_EVENTS_KEY } from '../src/queue/queue.contract';
import { http, adminToken, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { storedCount, waitProcessed, withDb } from './helpers/db';
import { issueWriteKey, writeKeyHeaders } from './helpers/write-keys';
import { TEST_REDIS_URL } from './helpers/env';
import type { ErrorDto } from './helpers/wire';

/**
 * A request's batch-level `context` is merged into each of its messages: the limits must hold
 * after that merge, or a small request becomes gigabytes of jobs and rows (issue 21).
 */
describe('Segment batch-level context amplification (e2e)', () => {
  let t: TestApp;
  let writer: TestClient;
  let writeKey: string;
  let redis: Redis;

  const quarantinedCount = (ids: string[]) =>
    withDb(async (db) => {
      const r = await db.query<{ n: number; bytes: number }>(
        'SELECT count(*)::int AS n, coalesce(sum(length(raw::text)), 0)::int AS bytes FROM rejected_events WHERE event_id = ANY($1::uuid[])',
        [ids],
      );
      return r.rows[0];
    });
  /** Samples the heap while `fn` runs: the largest growth over the heap before it, in bytes. */
  const peakHeapGrowth = async (fn: () => Promise<void>): Promise<number> => {
    global.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return Math.max(peak, process.memoryUsage().heapUsed) - base;
  };

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'amplification writer');
    writeKey = await issueWriteKey(t.url, await adminToken(t.url), writer.clientId);
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it('2,500 tiny messages with a 45 KB batch context: 200, each quarantined as sent, memory bounded, nothing left queued', async () => {
    const sid = randomUUID();
    const context = { blob: 'c'.repeat(45_000), sessionId: sid };
    const batch = Array.from({ length: 2_500 }, () => ({
      type: 'track',
      messageId: randomUUID(),
      event: 'e',
    }));
    const body = JSON.stringify({ batch, context });
    expect(body.length).toBeLessThan(500 * 1024); // within Segment's limit per request on the wire
    const ids = batch.map((m) => eventIdOf(writer.clientId, m.messageId));

    let status = 0;
    const growth = await peakHeapGrowth(async () => {
      const res = await http(`${t.url}/v1/batch`, {
        body,
        headers: { ...writeKeyHeaders(writeKey), 'content-type': 'application/json' },
      });
      status = res.status;
      await waitProcessed(ids, TEST_REDIS_URL, 60_000);
    });
    // Understood, so 200 (a 400 would make the SDK drop the batch): each message is over 32 KB once
    // the context is merged, so each goes to the quarantine as it was sent, without the copy.
    expect(status).toBe(200);
    expect(growth).toBeLessThan(100 * 1024 * 1024);
    expect(await storedCount(ids)).toBe(0);
    const q = await quarantinedCount(ids);
    expect(q.n).toBe(2_500);
    // Rows of a few hundred bytes each: the 45 KB context was not copied into any of them.
    expect(q.bytes).toBeLessThan(2_500 * 1024);
    expect(await redis.hmget(QUEUED_EVENTS_KEY, ...ids.slice(0, 100))).toEqual(Array(100).fill(null));
    const reasons = await withDb((db) =>
      db.query<{ reasons: string[]; errors: { message: string }[] }>(
        'SELECT reasons, errors FROM rejected_events WHERE event_id = $1',
        [ids[0]],
      ),
    );
    expect(reasons.rows[0].reasons).toEqual(['message_too_large']);
    expect(reasons.rows[0].errors[0].message).toMatch(/once the request's context/);

    // Still alive and serving.
    expect((await http(`${t.url}/health`)).status).toBe(200);
  }, 120_000);

  it('a batch whose merged messages would exceed MAX_BODY_BYTES is refused with 400 before anything is queued', async () => {
    // 30 KB of context merged into 200 messages: each under 32 KB, 6 MB together (> 5 MB).
    const context = { blob: 'c'.repeat(30_000) };
    const batch = Array.from({ length: 200 }, () => ({
      type: 'track',
      messageId: randomUUID(),
      event: 'e',
      anonymousId: 'a',
    }));
    const res = await http<ErrorDto>(`${t.url}/v1/batch`, {
      json: { batch, context },
      headers: writeKeyHeaders(writeKey),
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/MAX_BODY_BYTES/);
    const ids = batch.map((m) => eventIdOf(writer.clientId, m.messageId));
    expect(await redis.hmget(QUEUED_EVENTS_KEY, ...ids.slice(0, 10))).toEqual(Array(10).fill(null));
    expect(await storedCount(ids)).toBe(0);
    expect((await quarantinedCount(ids)).n).toBe(0);
  });

  it('a message whose own context overrides the batch context keeps it under the limit: stored, merged', async () => {
    const sid = randomUUID();
    const context = { blob: 'c'.repeat(20_000), app: 'batch' };
    const batch = [
      { type: 'track', messageId: randomUUID(), event: 'fits', anonymousId: sid },
      {
        type: 'track',
        messageId: randomUUID(),
        event: 'own context',
        anonymousId: sid,
        context: { blob: 'small', app: 'own' },
        properties: { big: 'p'.repeat(20_000) },
      },
      {
        type: 'track',
        messageId: randomUUID(),
        event: 'over once merged',
        anonymousId: sid,
        properties: { big: 'p'.repeat(20_000) },
      },
    ];
    const res = await http(`${t.url}/v1/batch`, {
      json: { batch, context },
      headers: writeKeyHeaders(writeKey),
    });
    expect(res.status).toBe(200);
    const ids = batch.map((m) => eventIdOf(writer.clientId, m.messageId));
    await waitProcessed(ids);
    const rows = await withDb((db) =>
      db.query<{ id: string; data: { context: Record<string, string> } }>(
        'SELECT id, data FROM events WHERE id = ANY($1::uuid[])',
        [ids],
      ),
    );
    const byId = new Map(rows.rows.map((r) => [r.id, r.data]));
    expect(byId.get(ids[0])?.context).toEqual(context);
    expect(byId.get(ids[1])?.context).toEqual({ blob: 'small', app: 'own' });
    expect(byId.has(ids[2])).toBe(false);
    const q = await quarantinedCount([ids[2]]);
    expect(q.n).toBe(1);
  });
});
