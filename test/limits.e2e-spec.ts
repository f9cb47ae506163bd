import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { EVENTS_QUEUE, INGEST_JOB, type QueuedEvent } from '../src/queue/queue.contract';
import { http, registerClient, startApp, type TestApp, type TestClient, waitFor } from './helpers/app';
import { waitProcessed, withDb } from './helpers/db';

/** `data` nested `levels` deep (data itself is level 1), built without recursion. */
function nested(levels: number): Record<string, unknown> {
  let data: Record<string, unknown> = { leaf: true };
  for (let i = 1; i < levels; i++) data = { a: data };
  return data;
}

const event = (data: Record<string, unknown> = { host: 'example.com', path: '/' }) => ({
  session_id: randomUUID(),
  category: 'misc',
  name: 'limits',
  data,
  timestamp: '2021-01-01T00:00:00Z',
});

/** Its JSON text built by hand: JSON.stringify itself overflows at these depths. */
function deepEventJson(levels: number): string {
  const e = event({});
  return (
    `{"session_id":"${e.session_id}","category":"misc","name":"deep","timestamp":"${e.timestamp}","data":` +
    '{"a":'.repeat(levels - 1) +
    '{}' +
    '}'.repeat(levels - 1) +
    '}'
  );
}

describe('envelope limits: MAX_PAYLOAD_DEPTH, MAX_EVENT_BYTES (e2e)', () => {
  let t: TestApp;
  let writer: TestClient;
  let neighbour: TestClient;

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'limits writer');
    neighbour = await registerClient(t.url, ['events:write'], 'limits neighbour');
  });
  afterAll(() => t.close());

  const post = (body: unknown, token = writer.token) => http(`${t.url}/v1/events`, { token, json: body });
  const postRaw = (body: string, token = writer.token) =>
    http(`${t.url}/v1/events`, { token, body, headers: { 'content-type': 'application/json' } });

  it("answers 400 payload_too_deep to a 5,000-deep event, and the other client's concurrent events are all queued and stored", async () => {
    const normal = Array.from({ length: 75 }, () => event());
    const [deep, ...others] = await Promise.all([
      postRaw(deepEventJson(5_000)),
      ...normal.map((e) => post(e, neighbour.token)),
    ]);
    expect(deep.status).toBe(400);
    expect(deep.body).toEqual({
      code: 'payload_too_deep',
      message: expect.any(String),
      errors: [{ path: '/data', message: 'nests deeper than 32 levels (MAX_PAYLOAD_DEPTH)' }],
    });
    expect(others.map((r) => r.status)).toEqual(normal.map(() => 202));
    const ids = others.map((r) => r.body.id as string);
    await waitProcessed(ids);
    const stored = await withDb((db) =>
      db.query('SELECT count(*)::int AS n FROM events WHERE id = ANY($1::uuid[])', [ids]),
    );
    expect(stored.rows[0].n).toBe(75);
  });

  it('accepts 32 levels of nesting and refuses 33', async () => {
    const ok = await post(event(nested(32)));
    expect(ok.status).toBe(202);
    const over = await post(event(nested(33)));
    expect(over.status).toBe(400);
    expect(over.body.code).toBe('payload_too_deep');
    await waitProcessed([ok.body.id]);
    const st = await http(`${t.url}/v1/events/${ok.body.id}`, { token: writer.token });
    expect(st.body.status).toBe('stored');
  });

  it('answers 413 event_too_large to a single event over MAX_EVENT_BYTES (the body itself being under MAX_BODY_BYTES)', async () => {
    const res = await post(event({ blob: 'x'.repeat(70_000) }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      code: 'event_too_large',
      message: expect.any(String),
      errors: [{ path: '/', message: 'is over 65536 bytes of JSON (MAX_EVENT_BYTES)' }],
    });
    expect((await post(event({ blob: 'x'.repeat(60_000) }))).status).toBe(202);
  });

  it('rejects only the offending events of a batch, in results', async () => {
    const res = await http(`${t.url}/v1/events/batch`, {
      token: writer.token,
      json: {
        events: [event(), event({ blob: 'é'.repeat(40_000) }), event(nested(40)), event()],
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.results).toEqual([
      { index: 0, id: expect.any(String), status: 'queued' },
      {
        index: 1,
        status: 'rejected',
        errors: [{ path: '/events/1', message: 'is over 65536 bytes of JSON (MAX_EVENT_BYTES)' }],
      },
      {
        index: 2,
        status: 'rejected',
        errors: [{ path: '/events/2/data', message: 'nests deeper than 32 levels (MAX_PAYLOAD_DEPTH)' }],
      },
      { index: 3, id: expect.any(String), status: 'queued' },
    ]);
  });

  it('quarantines events over the limits that reach the worker (queued before the limits existed)', async () => {
    const queue = t.app.get<Queue>(getQueueToken(EVENTS_QUEUE));
    const queued = (id: string, data: Record<string, unknown>): QueuedEvent => ({
      ...event(data),
      id,
      timestamp: '2021-01-01T00:00:00.000000Z',
      received_at: '2021-01-01T00:00:01.000000Z',
      client_id: writer.clientId,
    });
    const deepId = randomUUID();
    const largeId = randomUUID();
    const fineId = randomUUID();
    await queue.add(INGEST_JOB, {
      v: 1,
      events: [
        queued(deepId, nested(500)),
        queued(largeId, { blob: 'x'.repeat(100_000) }),
        queued(fineId, { host: 'example.com' }),
      ],
    });
    const rows = await waitFor(
      async () => {
        const r = await withDb((db) =>
          db.query<{ event_id: string; reasons: string[]; errors: { reason: string }[] }>(
            'SELECT event_id::text, reasons, errors FROM rejected_events WHERE event_id = ANY($1::uuid[]) ORDER BY reasons[1] DESC',
            [[deepId, largeId]],
          ),
        );
        return r.rows.length === 2 ? r.rows : undefined;
      },
      20_000,
      'the quarantine rows',
    );
    expect(rows.map((r) => [r.event_id, r.reasons])).toEqual([
      [deepId, ['payload_too_deep']],
      [largeId, ['event_too_large']],
    ]);
    await waitFor(
      async () =>
        (await withDb((db) => db.query('SELECT 1 FROM events WHERE id = $1', [fineId]))).rowCount === 1,
      20_000,
      'the fine event of the same job to be stored',
    );
  });
});
