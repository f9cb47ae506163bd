import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { waitProcessed, withDb } from './helpers/db';

/**
 * SPEC, Ingestion: event ids belong to their client. Deduplication is per (client_id, id); one
 * client sending an id another used never hides, replaces or shadows the other's event.
 */
describe('event ids belong to their client (e2e)', () => {
  let t: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let reader: TestClient;

  beforeAll(async () => {
    t = await startApp();
    alice = await registerClient(t.url, ['events:write'], 'alice');
    bob = await registerClient(t.url, ['events:write'], 'bob');
    reader = await registerClient(t.url, ['events:read'], 'ownership reader');
  });
  afterAll(() => t.close());

  const event = (id: string, sid: string, name: string, data: Record<string, unknown> = {}) => ({
    id,
    session_id: sid,
    category: 'ownership test',
    name,
    data,
    timestamp: '2021-07-01T08:00:00.000000Z',
  });
  const send = async (who: TestClient, body: unknown): Promise<void> => {
    const res = await http(`${t.url}/v1/events`, { token: who.token, json: body });
    expect(res.status).toBe(202);
  };
  const status = (id: string, token: string, query = '') =>
    http(`${t.url}/v1/events/${id}${query}`, { token });

  it('stores both events when two clients use the same id, each readable', async () => {
    const id = randomUUID();
    const sid = randomUUID();
    await send(alice, event(id, sid, 'alice first'));
    await waitProcessed([id]);
    await send(bob, event(id, sid, 'bob second'));
    await waitProcessed([id]);

    // Each writer sees its own event.
    const a = await status(id, alice.token);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      id,
      status: 'stored',
      event: { name: 'alice first', client_id: alice.clientId },
    });
    const b = await status(id, bob.token);
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({
      id,
      status: 'stored',
      event: { name: 'bob second', client_id: bob.clientId },
    });

    // A reader picks one with ?client_id=; without it, two candidates are a 409 naming them.
    for (const [who, name] of [
      [alice, 'alice first'],
      [bob, 'bob second'],
    ] as const) {
      const r = await status(id, reader.token, `?client_id=${who.clientId}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'stored', event: { name, client_id: who.clientId } });
    }
    const ambiguous = await status(id, reader.token);
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.code).toBe('conflict');
    expect(JSON.stringify(ambiguous.body)).toContain(alice.clientId);
    expect(JSON.stringify(ambiguous.body)).toContain(bob.clientId);
    // A writer's ?client_id= can only name itself.
    expect((await status(id, alice.token, `?client_id=${bob.clientId}`)).status).toBe(404);

    // Both in the session, both counted.
    const list = await http(`${t.url}/v1/sessions/${sid}/events`, { token: reader.token });
    expect(list.body.data.map((e: { name: string }) => e.name)).toEqual(['alice first', 'bob second']);
    const session = await withDb((db) =>
      db.query('SELECT event_count::int AS n FROM sessions WHERE session_id = $1', [sid]),
    );
    expect(session.rows[0].n).toBe(2);
  });

  it('stores an id once per client: the same client sending it again adds nothing', async () => {
    const id = randomUUID();
    const sid = randomUUID();
    await send(alice, event(id, sid, 'once'));
    await send(alice, event(id, sid, 'twice'));
    await waitProcessed([id]);
    const rows = await withDb((db) =>
      db.query('SELECT name FROM events WHERE id = $1 AND client_id = $2', [id, alice.clientId]),
    );
    expect(rows.rows).toEqual([{ name: 'once' }]);
  });

  it("never lets another client's valid event take a quarantined event out of the quarantine", async () => {
    const id = randomUUID();
    const sid = randomUUID();
    // A built-in type with a bad payload: quarantined for alice.
    await send(alice, { ...event(id, sid, 'pageview'), category: 'page interaction', data: { host: 1 } });
    await waitProcessed([id]);
    expect((await status(id, alice.token)).body.status).toBe('rejected');
    await send(bob, event(id, sid, 'bob valid'));
    await waitProcessed([id]);
    expect((await status(id, bob.token)).body).toMatchObject({ status: 'stored' });
    const a = await status(id, alice.token);
    expect(a.body).toMatchObject({ status: 'rejected', reasons: ['payload_invalid'] });
    expect(a.body.errors[0]).toMatchObject({ reason: 'payload_invalid' });
    // The reader without client_id: one stored and one rejected event with this id.
    expect((await status(id, reader.token)).status).toBe(409);
    expect((await status(id, reader.token, `?client_id=${alice.clientId}`)).body.status).toBe('rejected');
  });

  it('quarantines the same id for two clients, each its own row', async () => {
    const id = randomUUID();
    const sid = randomUUID();
    const bad = (name: string) => ({
      ...event(id, sid, name),
      category: 'page interaction',
      name: 'pageview',
      data: { host: 1 },
    });
    await send(alice, bad('a'));
    await send(bob, bad('b'));
    await waitProcessed([id]);
    const rows = await withDb((db) =>
      db.query('SELECT client_id FROM rejected_events WHERE event_id = $1 ORDER BY client_id', [id]),
    );
    expect(rows.rows.map((r) => r.client_id).sort()).toEqual([alice.clientId, bob.clientId].sort());
  });

  it('answers 400 for a client_id query that is not one', async () => {
    const res = await status(randomUUID(), reader.token, `?client_id=${'x'.repeat(65)}`);
    expect(res.status).toBe(400);
  });
});

describe('queued marks belong to their client (e2e, no worker)', () => {
  let api: TestApp;
  let alice: TestClient;
  let bob: TestClient;
  let reader: TestClient;

  beforeAll(async () => {
    api = await startApp({ ROLE: 'api' });
    alice = await registerClient(api.url, ['events:write'], 'alice queued');
    bob = await registerClient(api.url, ['events:write'], 'bob queued');
    reader = await registerClient(api.url, ['events:read'], 'reader queued');
  });
  afterAll(() => api.close());

  it('keeps both clients\' events "queued" when they use the same id', async () => {
    const id = randomUUID();
    for (const who of [alice, bob]) {
      const res = await http(`${api.url}/v1/events`, {
        token: who.token,
        json: { id, session_id: 's', category: 'c', name: 'n', data: {}, timestamp: '2021-01-01T00:00:00Z' },
      });
      expect(res.status).toBe(202);
    }
    for (const who of [alice, bob]) {
      const res = await http(`${api.url}/v1/events/${id}`, { token: who.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id, status: 'queued', client_id: who.clientId });
    }
    const picked = await http(`${api.url}/v1/events/${id}?client_id=${bob.clientId}`, {
      token: reader.token,
    });
    expect(picked.body).toEqual({ id, status: 'queued', client_id: bob.clientId });
    expect((await http(`${api.url}/v1/events/${id}`, { token: reader.token })).status).toBe(409);
  });
});
