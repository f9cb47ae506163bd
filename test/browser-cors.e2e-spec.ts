import { randomUUID } from 'node:crypto';
import { eventIdOf } from '../src/segment/segment-mapping';
import { http, adminToken, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { waitProcessed, withDb } from './helpers/db';
import { issueWriteKey, writeKeyAuth } from './helpers/write-keys';
import type { WriteKeyDto } from './helpers/wire';

const PAGE = 'https://shop.example.com';
const STRANGER = 'https://evil.example.net';

/** What a web page's requests get, checked at the HTTP level (the Chromium spec drives the real SDK). */
describe('Browser requests on the Segment routes (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let writer: TestClient;
  let reader: TestClient;
  let key: string;

  const issue = (clientId: string, allowedOrigins: string[]): Promise<string> =>
    issueWriteKey(t.url, admin, clientId, allowedOrigins);
  /** A request as the browser SDK makes it: text/plain JSON, Basic key, the page's Origin. */
  const fromPage = (path: string, body: string, origin = PAGE, k = key) =>
    http(`${t.url}${path}`, {
      body,
      headers: { 'content-type': 'text/plain', authorization: writeKeyAuth(k), origin },
    });
  const message = () => ({
    type: 'track',
    event: 'Clicked',
    anonymousId: randomUUID(),
    messageId: randomUUID(),
    timestamp: new Date().toISOString(),
  });
  const preflight = (path: string, origin: string) =>
    http(`${t.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  beforeAll(async () => {
    t = await startApp({ RATE_LIMIT_EVENTS_PER_ADDRESS: '10' });
    // Keys left by earlier spec files (one database per run) allow any origin: see browser-sdk.
    await withDb((db) => db.query('UPDATE write_keys SET revoked_at = now() WHERE revoked_at IS NULL'));
    admin = await adminToken(t.url);
    writer = await registerClient(t.url, ['events:write'], 'shop');
    reader = await registerClient(t.url, ['events:read'], 'analyst');
    key = await issue(writer.clientId, [PAGE]);
  });
  afterAll(() => t.close());

  it('answers preflights of the Segment routes for allowed origins only', async () => {
    for (const path of [
      '/v1/t',
      '/v1/p',
      '/v1/i',
      '/v1/b',
      '/v1/batch',
      '/v1/track',
      `/v1/projects/${key}/settings`,
    ]) {
      const ok = await preflight(path, PAGE);
      expect({ path, status: ok.status }).toEqual({ path, status: 204 });
      expect(ok.headers.get('access-control-allow-origin')).toBe(PAGE);
      expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
      expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(ok.headers.get('access-control-allow-private-network')).toBeNull();
      const refused = await preflight(path, STRANGER);
      expect({ path, status: refused.status }).toEqual({ path, status: 403 });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('allows a public page to reach The Eye on a private network when Chromium asks (Private Network Access)', async () => {
    const res = await http(`${t.url}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin: PAGE,
        'access-control-request-method': 'POST',
        'access-control-request-private-network': 'true',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-private-network')).toBe('true');
  });

  it('answers no cross-origin request anywhere on the bearer-token API', async () => {
    for (const path of [
      '/v1/events',
      '/v1/events/batch',
      '/v1/auth/token',
      '/v1/clients',
      '/v1/stats',
      '/docs-json',
    ]) {
      const pre = await preflight(path, PAGE);
      expect({ path, acao: pre.headers.get('access-control-allow-origin') }).toEqual({ path, acao: null });
      expect(pre.status).not.toBe(204);
    }
    const token = await http(`${t.url}/v1/events`, {
      token: writer.token,
      json: {},
      headers: { origin: PAGE },
    });
    expect(token.headers.get('access-control-allow-origin')).toBeNull();
    const list = await http(`${t.url}/v1/clients`, { token: admin, headers: { origin: PAGE } });
    expect(list.status).toBe(200);
    expect(list.headers.get('access-control-allow-origin')).toBeNull();
    // text/plain stays refused there (only the browser SDK's routes take it).
    const plain = await http(`${t.url}/v1/events`, {
      body: '{}',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${writer.token}` },
    });
    expect(plain.status).toBe(415);
  });

  it('serves the SDK its settings, pointing it back here, to allowed origins', async () => {
    const res = await http(`${t.url}/v1/projects/${key}/settings`, { headers: { origin: PAGE } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(res.body.integrations['Segment.io']).toMatchObject({
      apiKey: key,
      apiHost: `${new URL(t.url).host}/v1`,
      protocol: 'http',
    });
    expect(res.body.metrics.sampleRate).toBe(0);
    expect(
      (await http(`${t.url}/v1/projects/${key}/settings`, { headers: { origin: STRANGER } })).status,
    ).toBe(403);
    expect((await http(`${t.url}/v1/projects/wk_nope/settings`, { headers: { origin: PAGE } })).status).toBe(
      401,
    );
  });

  it('gives bad input from a page the answer the SDK expects, readable by the page, and stores good input once', async () => {
    const withCors = (res: { headers: Headers }) =>
      expect(res.headers.get('access-control-allow-origin')).toBe(PAGE);
    const malformed = await fromPage('/v1/t', '{"type":"track",');
    expect(malformed.status).toBe(400); // the SDK drops it (a resend would fail the same way)
    withCors(malformed);
    const huge = await fromPage(
      '/v1/t',
      JSON.stringify({ ...message(), properties: { pad: 'x'.repeat(600 * 1024) } }),
    );
    expect(huge.status).toBe(400);
    expect(huge.body.code).toBe('payload_too_large');
    withCors(huge);
    const wrongKey = await fromPage('/v1/t', JSON.stringify(message()), PAGE, 'wk_wrong');
    expect(wrongKey.status).toBe(401);
    withCors(wrongKey);
    // A message too large on its own goes to the quarantine; the request is still 200.
    const big = message();
    const bigRes = await fromPage(
      '/v1/t',
      JSON.stringify({ ...big, properties: { pad: 'x'.repeat(40 * 1024) } }),
    );
    expect(bigRes.status).toBe(200);

    const good = message();
    const body = JSON.stringify(good);
    expect((await fromPage('/v1/t', body)).status).toBe(200);
    // The SDK's retry of the same call (X-Retry-Count) is the same event.
    expect((await fromPage('/v1/t', body)).status).toBe(200);
    const id = eventIdOf(writer.clientId, good.messageId);
    await waitProcessed([id, eventIdOf(writer.clientId, big.messageId)]);
    const stored = await http(`${t.url}/v1/events/${id}`, { token: reader.token });
    expect(stored.body.status).toBe('stored');
    const rows = await withDb((db) =>
      db.query('SELECT 1 FROM events WHERE session_id = $1', [good.anonymousId]),
    );
    expect(rows.rowCount).toBe(1);
    const quarantined = await http(`${t.url}/v1/events/${eventIdOf(writer.clientId, big.messageId)}`, {
      token: reader.token,
    });
    expect(quarantined.body.status).toBe('rejected');
  });

  it('limits web pages per address (429 with a readable Retry-After); servers (no Origin) are not', async () => {
    const own = await issue(writer.clientId, []);
    // 40 at once: whatever seconds they span on a busy machine, at most 10 a second get through.
    const start = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, () => fromPage('/v1/t', JSON.stringify(message()), PAGE, own)),
    );
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(start / 1000) + 1;
    const refused = results.find((r) => r.status === 429);
    const accepted = results.filter((r) => r.status === 200).length;
    expect(refused?.status).toBe(429);
    expect(accepted).toBeLessThanOrEqual(10 * seconds);
    expect(accepted + results.filter((r) => r.status === 429).length).toBe(40);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(refused?.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(refused?.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    // The same second, from a server: no Origin, no address limit.
    const server = await http(`${t.url}/v1/batch`, {
      json: { batch: Array.from({ length: 30 }, message) },
      headers: { authorization: writeKeyAuth(own) },
    });
    expect(server.status).toBe(200);
  });

  it('limits a key meant for web pages per address even when a script leaves the Origin header out', async () => {
    // `key` allows PAGE only: public in that page, so anyone may send with it, with or without Origin.
    const start = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        http(`${t.url}/v1/track`, { json: message(), headers: { authorization: writeKeyAuth(key) } }),
      ),
    );
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(start / 1000) + 1;
    const accepted = results.filter((r) => r.status === 200).length;
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(10 * seconds);
    expect(accepted + results.filter((r) => r.status === 429).length).toBe(40);
  });
});

describe('Per-key rate limit (e2e)', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('refuses a key over RATE_LIMIT_EVENTS_PER_KEY while another key of the same client goes on', async () => {
    t = await startApp({ RATE_LIMIT_EVENTS_PER_KEY: '20' });
    const admin = await adminToken(t.url);
    const writer = await registerClient(t.url, ['events:write'], 'two keys');
    const issue = async () =>
      (
        await http<WriteKeyDto>(`${t.url}/v1/clients/${writer.clientId}/write-keys`, {
          token: admin,
          json: {},
        })
      ).body.write_key;
    const [a, b] = [await issue(), await issue()];
    const send = (k: string, n: number) =>
      http(`${t.url}/v1/batch`, {
        json: {
          batch: Array.from({ length: n }, () => ({
            type: 'track',
            event: 'x',
            anonymousId: 's',
            messageId: randomUUID(),
          })),
        },
        headers: { authorization: writeKeyAuth(k) },
      });
    // Two sends may straddle a second; three cannot all fit in one.
    const statuses = [(await send(a, 15)).status, (await send(a, 15)).status, (await send(a, 15)).status];
    expect(statuses).toContain(429);
    expect((await send(b, 15)).status).toBe(200);
    expect((await send(a, 21)).status).toBe(413);
  });
});
