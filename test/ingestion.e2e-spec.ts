import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, type TestApp, type TestClient, adminToken } from './helpers/app';
import { waitProcessed, withDb } from './helpers/db';

const session = (): string => randomUUID();

/** The three example events of the original brief, verbatim but for their session. */
function briefExamples(sessionId: string): Record<string, unknown>[] {
  return [
    {
      session_id: sessionId,
      category: 'page interaction',
      name: 'pageview',
      data: { host: 'www.consumeraffairs.com', path: '/' },
      timestamp: '2021-01-01 09:15:27.243860',
    },
    {
      session_id: sessionId,
      category: 'page interaction',
      name: 'cta click',
      data: { host: 'www.consumeraffairs.com', path: '/', element: 'chat bubble' },
      timestamp: '2021-01-01 09:15:27.243861',
    },
    {
      session_id: sessionId,
      category: 'form interaction',
      name: 'submit',
      data: { host: 'www.consumeraffairs.com', path: '/', form: { first_name: 'John', last_name: 'Doe' } },
      timestamp: '2021-01-01 09:15:27.243862',
    },
  ];
}

describe('ingestion → queue → processing (e2e)', () => {
  let t: TestApp;
  let writer: TestClient;
  let reader: TestClient;

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'writer');
    reader = await registerClient(t.url, ['events:read'], 'reader');
  });
  afterAll(() => t.close());

  const post = (body: unknown, token = writer.token) => http(`${t.url}/v1/events`, { token, json: body });
  const postBatch = (events: unknown[], token = writer.token) =>
    http(`${t.url}/v1/events/batch`, { token, json: { events } });
  const status = (id: string, token = reader.token) => http(`${t.url}/v1/events/${id}`, { token });

  it("stores the brief's three example events with their microseconds, in session order", async () => {
    const sid = session();
    const ids: string[] = [];
    for (const e of briefExamples(sid)) {
      const res = await post(e);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued' });
      ids.push(res.body.id);
    }
    expect(ids[0].charAt(14)).toBe('7'); // server-assigned ids are UUIDv7
    await waitProcessed(ids);
    const first = await status(ids[0]);
    expect(first.body).toMatchObject({
      id: ids[0],
      status: 'stored',
      event: {
        session_id: sid,
        category: 'page interaction',
        name: 'pageview',
        data: { host: 'www.consumeraffairs.com', path: '/' },
        timestamp: '2021-01-01T09:15:27.243860Z',
        client_id: writer.clientId,
        received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      },
    });
    const rows = await withDb((db) =>
      db.query(
        `SELECT name, to_char(timestamp AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS ts FROM events WHERE session_id = $1 ORDER BY timestamp, seq`,
        [sid],
      ),
    );
    expect(rows.rows).toEqual([
      { name: 'pageview', ts: '09:15:27.243860' },
      { name: 'cta click', ts: '09:15:27.243861' },
      { name: 'submit', ts: '09:15:27.243862' },
    ]);
    const s = await withDb((db) =>
      db.query('SELECT event_count::int AS n, client_ids FROM sessions WHERE session_id = $1', [sid]),
    );
    expect(s.rows[0]).toEqual({ n: 3, client_ids: [writer.clientId] });
  });

  it('accepts every timestamp form of the contract and normalises it to UTC with 6 digits', async () => {
    const forms: [string, string][] = [
      ['2021-01-01T09:15:27Z', '2021-01-01T09:15:27.000000Z'],
      ['2021-01-01T09:15:27.5+02:00', '2021-01-01T07:15:27.500000Z'],
      ['2021-01-01 09:15:27.123', '2021-01-01T09:15:27.123000Z'],
      ['2021-01-01T09:15:27.000001-0130', '2021-01-01T10:45:27.000001Z'],
    ];
    const sid = session();
    const res = await postBatch(
      forms.map(([ts]) => ({ session_id: sid, category: 'misc', name: 'tick', data: {}, timestamp: ts })),
    );
    expect(res.body.accepted).toBe(4);
    const ids = res.body.results.map((r: { id: string }) => r.id);
    await waitProcessed(ids);
    for (let i = 0; i < forms.length; i++) {
      expect((await status(ids[i])).body.event.timestamp).toBe(forms[i][1]);
    }
  });

  it('answers 400 with path-level errors for a bad envelope, and never a 500', async () => {
    const res = await post({
      session_id: '',
      category: 'x'.repeat(101),
      name: 5,
      data: [],
      timestamp: 'yesterday',
      extra: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(
      ['/category', '/data', '/extra', '/name', '/session_id', '/timestamp'].sort(),
    );
    for (const bad of [
      [],
      'text',
      null,
      {
        id: 'not-a-uuid',
        session_id: 's',
        category: 'c',
        name: 'n',
        data: {},
        timestamp: '2021-01-01T00:00:00Z',
      },
    ]) {
      const r = await post(bad);
      expect(r.status).toBe(400);
    }
    const impossible = await post({
      session_id: 's',
      category: 'c',
      name: 'n',
      data: {},
      timestamp: '2021-02-30T00:00:00Z',
    });
    expect(impossible.body.errors).toEqual([expect.objectContaining({ path: '/timestamp' })]);
  });

  it('answers 400 invalid_json for malformed JSON, 415 for another content type, 413 over the body limit', async () => {
    const malformed = await http(`${t.url}/v1/events`, {
      token: writer.token,
      body: '{"session_id": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: 'invalid_json', message: expect.any(String) });
    const text = await http(`${t.url}/v1/events`, {
      token: writer.token,
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const big = {
      events: [
        {
          session_id: 's',
          category: 'c',
          name: 'n',
          data: { blob: 'x'.repeat(6 * 1024 * 1024) },
          timestamp: '2021-01-01T00:00:00Z',
        },
      ],
    };
    const tooLarge = await http(`${t.url}/v1/events/batch`, { token: writer.token, json: big });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.code).toBe('payload_too_large');
  });

  it('judges each event of a batch alone: one bad event never rejects its neighbours', async () => {
    const sid = session();
    const good = briefExamples(sid);
    const res = await postBatch([good[0], { ...good[1], timestamp: 'nope' }, good[2]]);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toBe(1);
    expect(res.body.results[0]).toEqual({ index: 0, id: expect.any(String), status: 'queued' });
    expect(res.body.results[1]).toEqual({
      index: 1,
      status: 'rejected',
      errors: [{ path: '/events/1/timestamp', message: expect.any(String) }],
    });
    expect(res.body.results[2].status).toBe('queued');
    await waitProcessed([res.body.results[0].id, res.body.results[2].id]);
    expect((await status(res.body.results[2].id)).body.status).toBe('stored');
  });

  it('refuses an empty batch, a batch over 1,000 events and a batch without an events array', async () => {
    const e = briefExamples(session())[0];
    expect((await postBatch([])).status).toBe(400);
    const over = await postBatch(Array.from({ length: 1001 }, () => e));
    expect(over.status).toBe(400);
    expect(over.body.errors[0].path).toBe('/events');
    expect((await http(`${t.url}/v1/events/batch`, { token: writer.token, json: [e] })).status).toBe(400);
    const full = await postBatch(Array.from({ length: 1000 }, () => ({ ...e })));
    expect(full.status).toBe(202);
    expect(full.body.accepted).toBe(1000);
  });

  it('quarantines a payload that breaks its schema, with JSON-pointer reasons, and keeps it whole', async () => {
    const sid = session();
    const res = await post({
      session_id: sid,
      category: 'page interaction',
      name: 'cta click',
      data: { host: 'www.consumeraffairs.com', path: 42, color: 'red' },
      timestamp: '2021-01-01 09:15:27.243860',
    });
    const id = res.body.id;
    await waitProcessed([id]);
    const st = await status(id);
    expect(st.body.status).toBe('rejected');
    // The reason codes as the quarantine list gives them, as well as the detailed errors.
    expect(st.body.reasons).toEqual(['payload_invalid']);
    expect(st.body.client_id).toBe(writer.clientId);
    expect(st.body.event.data).toEqual({ host: 'www.consumeraffairs.com', path: 42, color: 'red' });
    const reasons = st.body.errors
      .map((e: { reason: string; path: string }) => `${e.reason} ${e.path}`)
      .sort();
    expect(reasons).toEqual([
      'payload_invalid /data/color',
      'payload_invalid /data/element',
      'payload_invalid /data/path',
    ]);
    const stored = await withDb((db) => db.query('SELECT 1 FROM events WHERE id = $1', [id]));
    expect(stored.rowCount).toBe(0);
  });

  it('quarantines timestamps beyond MAX_CLOCK_SKEW in the future of received_at, accepts those within', async () => {
    const sid = session();
    const in10min = new Date(Date.now() + 10 * 60_000).toISOString();
    const in1min = new Date(Date.now() + 60_000).toISOString();
    const res = await postBatch([
      { session_id: sid, category: 'misc', name: 'tick', data: {}, timestamp: in10min },
      { session_id: sid, category: 'misc', name: 'tick', data: {}, timestamp: in1min },
    ]);
    const [far, near] = res.body.results.map((r: { id: string }) => r.id);
    await waitProcessed([far, near]);
    const farStatus = await status(far);
    expect(farStatus.body.status).toBe('rejected');
    expect(farStatus.body.reasons).toEqual(['timestamp_in_future']);
    expect(farStatus.body.errors).toEqual([
      expect.objectContaining({ reason: 'timestamp_in_future', path: '/timestamp' }),
    ]);
    expect((await status(near)).body.status).toBe('stored');
  });

  it('keeps payloads PostgreSQL cannot store (\\u0000, unpaired surrogates) in quarantine without poisoning the batch', async () => {
    const sid = session();
    const body =
      '{"events":[' +
      `{"session_id":"${sid}","category":"misc","name":"nul","data":{"text":"a\\u0000b"},"timestamp":"2021-01-01T00:00:00Z"},` +
      `{"session_id":"${sid}","category":"misc","name":"ok","data":{"text":"fine \\ud83d\\ude00"},"timestamp":"2021-01-01T00:00:01Z"},` +
      `{"session_id":"${sid}","category":"misc","name":"lone","data":{"k\\ud800":"x"},"timestamp":"2021-01-01T00:00:02Z"}` +
      ']}';
    const res = await http(`${t.url}/v1/events/batch`, {
      token: writer.token,
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(202);
    const [nul, ok, lone] = res.body.results.map((r: { id: string }) => r.id);
    await waitProcessed([nul, ok, lone]);
    const okStatus = await status(ok);
    expect(okStatus.body.status).toBe('stored');
    expect(okStatus.body.event.data.text).toBe('fine 😀');
    const nulStatus = await status(nul);
    expect(nulStatus.body.status).toBe('rejected');
    expect(nulStatus.body.errors).toEqual([
      expect.objectContaining({ reason: 'payload_unstorable', path: '/data/text' }),
    ]);
    expect(nulStatus.body.event.data.text).toBe('a\u0000b');
    const loneStatus = await status(lone);
    expect(loneStatus.body.status).toBe('rejected');
    expect(loneStatus.body.errors[0].reason).toBe('payload_unstorable');
  });

  it('stores an id sent twice (two requests at once) once, and counts the session once', async () => {
    const sid = session();
    const id = randomUUID();
    const e = { ...briefExamples(sid)[0], id };
    const results = await Promise.all([post(e), post(e), postBatch([e, e])]);
    for (const r of results) expect(r.status).toBe(202);
    expect(results[0].body.id).toBe(id);
    await waitProcessed([id]);
    const rows = await withDb((db) => db.query('SELECT count(*)::int AS n FROM events WHERE id = $1', [id]));
    expect(rows.rows[0].n).toBe(1);
    const s = await withDb((db) =>
      db.query('SELECT event_count::int AS n FROM sessions WHERE session_id = $1', [sid]),
    );
    expect(s.rows[0].n).toBe(1);
  });

  it('accepts event types with no schema (UNKNOWN_EVENT_TYPES=accept)', async () => {
    const res = await post({
      session_id: session(),
      category: 'video',
      name: 'play',
      data: { anything: [1, 2] },
      timestamp: '2021-01-01T00:00:00Z',
    });
    await waitProcessed([res.body.id]);
    expect((await status(res.body.id)).body.status).toBe('stored');
  });

  it('applies a schema PUT at run time, refuses one that does not compile, lists schemas', async () => {
    const admin = await adminToken(t.url);
    const category = `video ${randomUUID().slice(0, 8)}`;
    const url = `${t.url}/v1/schemas/${encodeURIComponent(category)}/play`;
    const bad = await http(url, {
      method: 'PUT',
      token: admin,
      json: { type: 'object', properties: { a: { type: 'strnig' } } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_failed');
    const schema = { type: 'object', properties: { position: { type: 'number' } }, required: ['position'] };
    const put1 = await http(url, { method: 'PUT', token: admin, json: schema });
    expect(put1.status).toBe(200);
    expect(put1.body).toMatchObject({ category, name: 'play', version: 1, schema });
    const put2 = await http(url, {
      method: 'PUT',
      token: admin,
      json: { ...schema, additionalProperties: false },
    });
    expect(put2.body.version).toBe(2);
    expect((await http(url, { method: 'PUT', token: writer.token, json: schema })).status).toBe(403);

    const res = await postBatch([
      {
        session_id: session(),
        category,
        name: 'play',
        data: { position: 3 },
        timestamp: '2021-01-01T00:00:00Z',
      },
      {
        session_id: session(),
        category,
        name: 'play',
        data: { position: 3, extra: true },
        timestamp: '2021-01-01T00:00:00Z',
      },
    ]);
    const [good, extra] = res.body.results.map((r: { id: string }) => r.id);
    await waitProcessed([good, extra]);
    expect((await status(good)).body.status).toBe('stored');
    expect((await status(extra)).body.status).toBe('rejected');

    const list = await http(`${t.url}/v1/schemas`, { token: admin });
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ category, name: 'play', version: 2 }),
        expect.objectContaining({
          category: 'page interaction',
          name: 'pageview',
          version: 0,
          created_by: 'built-in',
        }),
      ]),
    );
  });

  it('shows an event to the client that sent it and to readers, 404 to other writers', async () => {
    const res = await post(briefExamples(session())[0]);
    await waitProcessed([res.body.id]);
    expect((await status(res.body.id, writer.token)).body.status).toBe('stored');
    expect((await status(res.body.id, reader.token)).body.status).toBe('stored');
    const other = await registerClient(t.url, ['events:write'], 'other writer');
    expect((await status(res.body.id, other.token)).status).toBe(404);
    expect((await status(randomUUID(), reader.token)).status).toBe(404);
    expect((await status('not-a-uuid', reader.token)).status).toBe(400);
    expect((await post(briefExamples(session())[0], reader.token)).status).toBe(403);
  });

  it('replays quarantined events against the schemas in force now, storing those that pass, once', async () => {
    const admin = await adminToken(t.url);
    const category = `checkout ${randomUUID().slice(0, 8)}`;
    const url = `${t.url}/v1/schemas/${encodeURIComponent(category)}/paid`;
    await http(url, {
      method: 'PUT',
      token: admin,
      json: {
        type: 'object',
        required: ['amount'],
        additionalProperties: false,
        properties: { amount: { type: 'number' } },
      },
    });
    const sid = session();
    const res = await postBatch([
      {
        session_id: sid,
        category,
        name: 'paid',
        data: { amount: 5, currency: 'EUR' },
        timestamp: '2021-01-01T00:00:00Z',
      },
      {
        session_id: sid,
        category,
        name: 'paid',
        data: { amount: 'five' },
        timestamp: '2021-01-01T00:00:01Z',
      },
    ]);
    const [withCurrency, textAmount] = res.body.results.map((r: { id: string }) => r.id);
    await waitProcessed([withCurrency, textAmount]);
    expect((await status(withCurrency)).body.status).toBe('rejected');

    await http(url, {
      method: 'PUT',
      token: admin,
      json: {
        type: 'object',
        required: ['amount'],
        properties: { amount: { type: 'number' }, currency: { type: 'string' } },
      },
    });
    const replay = (body: unknown, token = admin) =>
      http(`${t.url}/v1/rejected-events/replay`, { token, json: body });
    expect((await replay({ category }, writer.token)).status).toBe(403);
    expect((await replay({ reason: 'bogus' })).status).toBe(400);
    const first = await replay({ category, name: 'paid' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ matched: 2, stored: 1, still_rejected: 1, more: false });
    expect((await status(withCurrency)).body.status).toBe('stored');
    expect((await status(textAmount)).body.status).toBe('rejected');
    const again = await replay({ ids: [withCurrency, textAmount] });
    expect(again.body).toEqual({ matched: 1, stored: 0, still_rejected: 1, more: false });
    const n = await withDb((db) =>
      db.query('SELECT count(*)::int AS n FROM events WHERE session_id = $1', [sid]),
    );
    expect(n.rows[0].n).toBe(1);
    const s = await withDb((db) =>
      db.query('SELECT event_count::int AS n FROM sessions WHERE session_id = $1', [sid]),
    );
    expect(s.rows[0].n).toBe(1);
  });

  it('counts accepted and refused events in /metrics', async () => {
    const admin = await adminToken(t.url);
    const counter = async (name: string): Promise<number> => {
      const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } });
      const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ')[1]);
    };
    const accepted = await counter('the_eye_events_accepted_total');
    const refused = await counter('the_eye_events_refused_total');
    const e = briefExamples(session());
    const res = await postBatch([e[0], { ...e[1], timestamp: 'nope' }, e[2]]);
    expect(res.body.accepted).toBe(2);
    expect((await post({ ...e[0], data: 'not an object' })).status).toBe(400);
    expect(await counter('the_eye_events_accepted_total')).toBe(accepted + 2);
    expect(await counter('the_eye_events_refused_total')).toBe(refused + 2);
  });
});
