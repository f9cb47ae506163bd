import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, type TestApp, type TestClient, waitFor } from './helpers/app';
import { waitProcessed } from './helpers/db';
import type { BatchResponseDto, WriteKeyDto } from './helpers/wire';
import { writeKeyAuth } from './helpers/write-keys';

/**
 * SPEC, Processing → Order: events with the same timestamp are ordered by arrival (the order the
 * requests were acknowledged, then their position in the batch), never by their ids.
 *
 * The API runs without a worker (ROLE=api) so that the jobs of several requests wait in the queue
 * and one worker (started afterwards) takes them together: concurrent jobs and group commit.
 */
describe('order of events with the same timestamp (e2e)', () => {
  const TIMESTAMP = '2021-06-01T12:00:00.000000Z';
  let api: TestApp;
  let worker: TestApp | undefined;
  let writer: TestClient;
  let reader: TestClient;
  let admin: TestClient;

  beforeAll(async () => {
    api = await startApp({ ROLE: 'api' });
    writer = await registerClient(api.url, ['events:write'], 'order writer');
    reader = await registerClient(api.url, ['events:read'], 'order reader');
    admin = await registerClient(api.url, ['admin'], 'order admin');
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
  });

  /** UUIDv7-shaped ids, `n` of them, in DESCENDING order. */
  const descendingIds = (n: number): string[] => {
    const prefix = `0192c0de-${randomUUID().slice(9, 13)}-7000-8000-`;
    return Array.from({ length: n }, (_, i) => `${prefix}${String(n - i).padStart(12, '0')}`);
  };
  const event = (sid: string, id: string | undefined, name: string) => ({
    ...(id ? { id } : {}),
    session_id: sid,
    category: 'order test',
    name,
    data: {},
    timestamp: TIMESTAMP,
  });

  const startWorker = async (): Promise<void> => {
    worker ??= await startApp({ ROLE: 'worker' });
  };

  /** The session as both read paths serve it: its names, in order. */
  const readBack = async (sid: string): Promise<{ timeline: string[]; list: string[]; desc: string[] }> => {
    const timeline = await http(`${api.url}/v1/sessions/${sid}/events`, { token: reader.token });
    const list = await http(`${api.url}/v1/events?session_id=${sid}`, { token: reader.token });
    const desc = await http(`${api.url}/v1/events?session_id=${sid}&order=desc`, { token: reader.token });
    for (const r of [timeline, list, desc]) expect(r.status).toBe(200);
    const names = (r: { body: { data: { name: string }[] } }) => r.body.data.map((e) => e.name);
    return { timeline: names(timeline), list: names(list), desc: names(desc) };
  };

  it('keeps the requests in the order they were acknowledged, whatever their ids (jobs stored together)', async () => {
    const sid = randomUUID();
    const ids = descendingIds(6);
    const names = ids.map((_, i) => `request ${i}`);
    // One after the other: each request is acknowledged (202) before the next is sent.
    for (let i = 0; i < ids.length; i++) {
      const res = await http(`${api.url}/v1/events`, {
        token: writer.token,
        json: event(sid, ids[i], names[i]),
      });
      expect(res.status).toBe(202);
    }
    await startWorker();
    await waitProcessed(ids);
    const got = await readBack(sid);
    expect(got.timeline).toEqual(names);
    expect(got.list).toEqual(names);
    expect(got.desc).toEqual([...names].reverse());
  });

  it('stores a batch with equal timestamps and descending ids in batch order', async () => {
    await startWorker();
    const sid = randomUUID();
    const ids = descendingIds(5);
    const names = ['pageview', 'cta click', 'scroll', 'submit', 'thanks'];
    const res = await http(`${api.url}/v1/events/batch`, {
      token: writer.token,
      json: { events: ids.map((id, i) => event(sid, id, names[i])) },
    });
    expect(res.status).toBe(202);
    await waitProcessed(ids);
    const got = await readBack(sid);
    expect(got.timeline).toEqual(names);
    expect(got.list).toEqual(names);
  });

  it('orders batches acknowledged one after the other, then each by position (server-assigned ids too)', async () => {
    await worker?.close();
    worker = undefined;
    const sid = randomUUID();
    const sent: string[] = [];
    const ids: string[] = [];
    for (let b = 0; b < 3; b++) {
      const names = Array.from({ length: 4 }, (_, i) => `batch ${b} event ${i}`);
      // The first batch's ids are the highest: id order is the reverse of arrival.
      const batchIds = b === 1 ? [undefined, undefined, undefined, undefined] : descendingIds(4);
      const res = await http<BatchResponseDto>(`${api.url}/v1/events/batch`, {
        token: writer.token,
        json: { events: names.map((n, i) => event(sid, batchIds[i], n)) },
      });
      expect(res.status).toBe(202);
      sent.push(...names);
      // All queued: every result carries its id (only a rejected one has none).
      ids.push(...res.body.results.map((r) => r.id!));
    }
    await startWorker();
    await waitProcessed(ids);
    expect((await readBack(sid)).timeline).toEqual(sent);
  });

  it('puts a replayed event back in its place, not after the events stored meanwhile', async () => {
    // The worker starts once the schema is in place (it loads the schemas when it starts).
    await worker?.close();
    worker = undefined;
    const category = `order replay ${randomUUID().slice(0, 8)}`;
    const schema = (json: unknown) =>
      http(`${api.url}/v1/schemas/${encodeURIComponent(category)}/step`, {
        method: 'PUT',
        token: admin.token,
        json,
      });
    const strict = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    expect((await schema(strict)).status).toBe(200);
    const sid = randomUUID();
    const ids = descendingIds(3);
    const res = await http(`${api.url}/v1/events/batch`, {
      token: writer.token,
      json: {
        events: ['first', 'quarantined', 'third'].map((name, i) => ({
          ...event(sid, ids[i], 'step'),
          category,
          data: name === 'quarantined' ? {} : { ok: true, name },
        })),
      },
    });
    expect(res.status).toBe(202);
    await startWorker();
    await waitProcessed(ids);
    expect((await http(`${api.url}/v1/events/${ids[1]}`, { token: reader.token })).body.status).toBe(
      'rejected',
    );

    expect((await schema({ type: 'object' })).status).toBe(200);
    // The API process learns of the new schema through Redis: replay until it has.
    await waitFor(async () => {
      const replay = await http(`${api.url}/v1/rejected-events/replay`, {
        token: admin.token,
        json: { ids: [ids[1]] },
      });
      expect(replay.status).toBe(200);
      return replay.body.stored === 1;
    });
    const timeline = await http(`${api.url}/v1/sessions/${sid}/events`, { token: reader.token });
    expect(timeline.body.data.map((e: { id: string }) => e.id)).toEqual(ids);
  });

  it('orders Segment messages with equal timestamps by their position in the batch', async () => {
    await startWorker();
    const issued = await http<WriteKeyDto>(`${api.url}/v1/clients/${writer.clientId}/write-keys`, {
      method: 'POST',
      token: admin.token,
    });
    expect(issued.status).toBe(201);
    const sid = randomUUID();
    const names = Array.from({ length: 12 }, (_, i) => `segment step ${i}`);
    const res = await http(`${api.url}/v1/batch`, {
      headers: { authorization: writeKeyAuth(issued.body.write_key) },
      json: {
        sentAt: TIMESTAMP,
        batch: names.map((name) => ({
          type: 'track',
          event: name,
          messageId: randomUUID(),
          anonymousId: sid,
          timestamp: TIMESTAMP,
          properties: { category: 'order test' },
        })),
      },
    });
    expect(res.status).toBe(200);
    let got: string[] = [];
    const deadline = Date.now() + 20_000;
    while (got.length < names.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      got = (await readBack(sid)).timeline;
    }
    expect(got).toEqual(names);
  });
});
