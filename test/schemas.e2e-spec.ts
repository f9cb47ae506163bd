import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, type TestApp, type TestClient, adminToken } from './helpers/app';
import { waitProcessed } from './helpers/db';

/** Polls /health every 10 ms while `work` runs; resolves with the slowest answer (ms). */
async function slowestHealthDuring(url: string, work: Promise<unknown>): Promise<number> {
  let done = false;
  let slowest = 0;
  const poll = (async () => {
    while (!done) {
      const started = performance.now();
      await fetch(`${url}/health`).then((r) => r.text());
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await work;
  } finally {
    done = true;
    await poll;
  }
  return slowest;
}

describe('payload schemas: bounded validation, readable by analysts (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let writer: TestClient;
  let reader: TestClient;

  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t.url);
    writer = await registerClient(t.url, ['events:write'], 'schema writer');
    reader = await registerClient(t.url, ['events:read'], 'schema reader');
  });
  afterAll(() => t.close());

  const schemaUrl = (category: string, name: string): string =>
    `${t.url}/v1/schemas/${encodeURIComponent(category)}/${encodeURIComponent(name)}`;
  const send = (event: Record<string, unknown>) =>
    http(`${t.url}/v1/events`, {
      token: writer.token,
      json: { timestamp: '2021-01-01T09:15:27Z', ...event },
    });
  const statusOf = (id: string) => http(`${t.url}/v1/events/${id}`, { token: reader.token });

  it('runs a catastrophic-backtracking pattern in linear time: the process never stalls', async () => {
    const category = `search ${randomUUID().slice(0, 8)}`;
    const put = await http(schemaUrl(category, 'query'), {
      method: 'PUT',
      token: admin,
      json: { type: 'object', properties: { q: { type: 'string', pattern: '^(a+)+$' } }, required: ['q'] },
    });
    expect(put.status).toBe(200);
    // With V8's backtracking engine 30 "a"s and a "!" took 43 s; every few more characters double it.
    const ids: string[] = [];
    const slowest = await slowestHealthDuring(
      t.url,
      (async () => {
        for (const q of [`${'a'.repeat(30)}!`, `${'a'.repeat(5_000)}!`, 'aaaa']) {
          const res = await send({ session_id: randomUUID(), category, name: 'query', data: { q } });
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
        await waitProcessed(ids);
      })(),
    );
    // V8's engine took 43 s on the first of these (and forever on the second); a busy machine adds
    // scheduling delay to every answer, hence a bound far above /health's usual ~1 ms.
    expect(slowest).toBeLessThan(2_000);
    expect((await statusOf(ids[0])).body).toMatchObject({
      status: 'rejected',
      errors: [{ reason: 'payload_invalid', path: '/data/q', message: 'must match pattern "^(a+)+$"' }],
    });
    expect((await statusOf(ids[1])).body.status).toBe('rejected');
    expect((await statusOf(ids[2])).body.status).toBe('stored');
  });

  it('refuses at PUT a pattern that RE2 cannot run in linear time, naming it', async () => {
    const res = await http(schemaUrl('search', 'lookahead'), {
      method: 'PUT',
      token: admin,
      json: { type: 'object', properties: { q: { type: 'string', pattern: '^(?=a)a+$' } } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', errors: [{ path: '/' }] });
    expect(res.body.errors[0].message).toContain('pattern "^(?=a)a+$" is refused');
  });

  it('refuses a schema document over 64 KiB with 413', async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 3_000; i++) properties[`property_${i}`] = { type: 'string' };
    const res = await http(schemaUrl('search', 'huge'), {
      method: 'PUT',
      token: admin,
      json: { type: 'object', properties },
    });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(res.body.message).toContain('at most 65536');
  });

  it('compiles a large schema off the event loop', async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 1_200; i++) properties[`p${i}`] = { type: 'string', pattern: `^[a-z]+${i}$` };
    const category = `wide ${randomUUID().slice(0, 8)}`;
    let status = 0;
    const started = performance.now();
    const slowest = await slowestHealthDuring(
      t.url,
      http(schemaUrl(category, 'form'), {
        method: 'PUT',
        token: admin,
        json: { type: 'object', properties, additionalProperties: false },
      }).then((r) => (status = r.status)),
    );
    const putMs = performance.now() - started;
    expect(status).toBe(200);
    // Ajv spends over a second on this schema: compiled on the event loop, one /health answer would
    // wait for all of it. Relative to the PUT, so a busy machine does not fail it.
    expect(putMs).toBeGreaterThan(300);
    expect(slowest).toBeLessThan(putMs / 3);
  });

  it('keeps 20 violations of an event with 5,000 unexpected keys, and the count of the rest', async () => {
    const data: Record<string, unknown> = { host: 'www.consumeraffairs.com', path: '/' };
    for (let i = 0; i < 5_000; i++) data[`k${i}`] = 1;
    const res = await send({
      session_id: randomUUID(),
      category: 'page interaction',
      name: 'pageview',
      data,
    });
    expect(res.status).toBe(202);
    await waitProcessed([res.body.id]);
    const status = await statusOf(res.body.id);
    expect(status.body.status).toBe('rejected');
    expect(status.body.errors).toHaveLength(21);
    expect(status.body.errors[0]).toEqual({
      reason: 'payload_invalid',
      path: '/data/k0',
      message: 'is not allowed by the schema (unexpected value)',
    });
    expect(status.body.errors[20]).toEqual({
      reason: 'payload_invalid',
      path: '/data',
      message: '4980 more violations not kept (at most 20 are kept per event)',
      omitted: 4980,
    });
  });

  it('lets analysts (events:read) read the schemas, not change them', async () => {
    const list = await http(`${t.url}/v1/schemas`, { token: reader.token });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ category: 'page interaction', name: 'pageview', version: 0 }),
      ]),
    );
    const one = await http(schemaUrl('page interaction', 'pageview'), { token: reader.token });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      category: 'page interaction',
      name: 'pageview',
      created_by: 'built-in',
    });
    expect(one.body.schema.required).toEqual(['host', 'path']);
    expect((await http(schemaUrl('page interaction', 'nothing'), { token: reader.token })).status).toBe(404);
    const put = await http(schemaUrl('page interaction', 'pageview'), {
      method: 'PUT',
      token: reader.token,
      json: {},
    });
    expect(put.status).toBe(403);
    expect((await http(`${t.url}/v1/schemas`, { token: writer.token })).status).toBe(403);
  });

  it('serves the newest admin version of a type', async () => {
    const category = `video ${randomUUID().slice(0, 8)}`;
    await http(schemaUrl(category, 'play'), { method: 'PUT', token: admin, json: { type: 'object' } });
    await http(schemaUrl(category, 'play'), {
      method: 'PUT',
      token: admin,
      json: { type: 'object', additionalProperties: false },
    });
    const one = await http(schemaUrl(category, 'play'), { token: reader.token });
    expect(one.body).toMatchObject({ version: 2, schema: { type: 'object', additionalProperties: false } });
  });
});
