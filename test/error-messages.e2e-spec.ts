import { randomUUID } from 'node:crypto';
import { adminToken, http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';

/**
 * Errors say how to fix the request: which limit, which content type, one message per field,
 * "is required" for a missing one. A small MAX_BODY_BYTES keeps the oversized body cheap.
 */
describe('errors that say how to fix the request (e2e)', () => {
  const MAX_BODY_BYTES = 64 * 1024;
  let t: TestApp;
  let writer: TestClient;
  let reader: TestClient;
  let admin: string;

  beforeAll(async () => {
    t = await startApp({ MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    writer = await registerClient(t.url, ['events:write'], 'writer');
    reader = await registerClient(t.url, ['events:read'], 'reader');
    admin = await adminToken(t.url);
  });
  afterAll(() => t.close());

  const event = (data: unknown = {}) => ({
    session_id: randomUUID(),
    category: 'page interaction',
    name: 'pageview',
    data,
    timestamp: '2021-01-01T00:00:00Z',
  });

  it('413 names the body limit and says to split the batch', async () => {
    const events = Array.from({ length: 100 }, () => event({ blob: 'x'.repeat(1000) }));
    const res = await http(`${t.url}/v1/events/batch`, { token: writer.token, json: { events } });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      code: 'payload_too_large',
      message: `The request body is larger than the limit of ${MAX_BODY_BYTES} bytes (MAX_BODY_BYTES): split the batch into smaller requests`,
    });
  });

  it('a batch over 1,000 events says how many it got and to split it', async () => {
    const events = Array.from({ length: 1001 }, () => ({}));
    const res = await http(`${t.url}/v1/events/batch`, { token: writer.token, json: { events } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/events', message: 'must hold 1-1000 events (got 1001): split it into several requests' },
    ]);
  });

  it('413 for one event over MAX_EVENT_BYTES names that limit', async () => {
    const small = await startApp({ MAX_EVENT_BYTES: '1024' });
    try {
      const w = await registerClient(small.url, ['events:write'], 'w');
      const res = await http(`${small.url}/v1/events`, {
        token: w.token,
        json: event({ blob: 'x'.repeat(2000) }),
      });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('event_too_large');
      expect(res.body.message).toBe(
        'The event is larger than the limit of 1024 bytes (MAX_EVENT_BYTES): keep large values out of data',
      );
    } finally {
      await small.close();
    }
  });

  it.each([
    ['text/plain', 'hello'],
    ['application/x-www-form-urlencoded', 'session_id=x&category=y'],
    ['application/xml', '<event/>'],
  ])('415 for %s names the content type to send', async (contentType, body) => {
    for (const route of ['/v1/events', '/v1/events/batch', '/v1/funnels']) {
      const token = route === '/v1/funnels' ? reader.token : writer.token;
      const res = await http(`${t.url}${route}`, { token, body, headers: { 'content-type': contentType } });
      expect({ route, status: res.status, body: res.body }).toEqual({
        route,
        status: 415,
        body: {
          code: 'unsupported_media_type',
          message: `Content-Type ${contentType} is not accepted: send the body as JSON with Content-Type: application/json`,
        },
      });
    }
  });

  it('the token route still takes form fields (OAuth 2.0 clients and Swagger UI send them)', async () => {
    const res = await http(`${t.url}/v1/auth/token`, {
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: reader.clientId,
        client_secret: reader.secret,
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
  });

  it.each(['abc', '0', '1001', '2.5'])(
    'limit=%s gives one message naming the allowed range',
    async (limit) => {
      for (const route of ['/v1/events', '/v1/sessions', '/v1/rejected-events']) {
        const res = await http(`${t.url}${route}?limit=${limit}`, { token: reader.token });
        expect({ route, status: res.status, errors: res.body.errors }).toEqual({
          route,
          status: 400,
          errors: [{ path: '/limit', message: 'limit must be an integer from 1 to 1000' }],
        });
      }
    },
  );

  it('a missing field "is required", once, beside what is wrong with the fields that are there', async () => {
    const client = await http(`${t.url}/v1/clients`, { token: admin, json: { scopes: ['nope'] } });
    expect(client.status).toBe(400);
    expect(client.body.errors).toEqual([
      { path: '/name', message: 'is required' },
      { path: '/scopes', message: expect.stringMatching(/^each value in scopes must be one of/) },
    ]);

    const funnel = await http(`${t.url}/v1/funnels`, { token: reader.token, json: { within: '30m' } });
    expect(funnel.status).toBe(400);
    expect(funnel.body.errors).toEqual([
      { path: '/steps', message: 'is required' },
      { path: '/from', message: 'is required' },
      { path: '/to', message: 'is required' },
    ]);
  });
});
