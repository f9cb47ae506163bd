import { randomUUID } from 'node:crypto';
import { http, tokenFor } from './helpers/app';
import { TEST_ADMIN_ID, TEST_ADMIN_SECRET } from './helpers/env';
import { type ServiceProcess, spawnService } from './helpers/process';

/** The JSON lines the service printed so far (anything else fails the test: logs are JSON). */
function lines(svc: ServiceProcess): Record<string, unknown>[] {
  return svc
    .output()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
}

describe('logs (e2e, a real service process)', () => {
  let svc: ServiceProcess;
  beforeAll(async () => {
    svc = await spawnService({ LOG_LEVEL: 'debug' });
  });
  afterAll(() => svc.stop());

  it('prints JSON lines only, and the request id of each request on the lines it causes', async () => {
    const requestId = `req-${randomUUID()}`;
    const res = await http(`${svc.url}/v1/auth/token`, {
      json: { client_id: TEST_ADMIN_ID, client_secret: 'not-the-secret' },
      headers: { 'x-request-id': requestId },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    await new Promise((r) => setTimeout(r, 200));
    const caused = lines(svc).filter((l) => l.reqId === requestId);
    expect(caused.map((l) => l.msg)).toEqual([
      '401 invalid_client: Unknown client, wrong secret or revoked client',
    ]);
  });

  it('does the same on the ingestion routes (served outside Nest, the hot path)', async () => {
    const requestId = `ingest-${randomUUID()}`;
    const res = await http(`${svc.url}/v1/events`, {
      token: 'not-a-token',
      json: {},
      headers: { 'x-request-id': requestId },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    await new Promise((r) => setTimeout(r, 200));
    const caused = lines(svc).filter((l) => l.reqId === requestId);
    expect(caused).toEqual([
      expect.objectContaining({ level: 20, msg: expect.stringMatching(/^401 unauthorized: /) }),
    ]);
  });

  it('gives a request without an id a fresh one, and refuses to echo an unsafe one', async () => {
    const plain = await http(`${svc.url}/health`);
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const odd = await http(`${svc.url}/health`, { headers: { 'x-request-id': 'a b"<script>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never writes a secret or a token', async () => {
    const wrongSecret = `wrong-${randomUUID()}`;
    await http(`${svc.url}/v1/auth/token`, {
      json: { client_id: TEST_ADMIN_ID, client_secret: wrongSecret },
    });
    const token = await tokenFor(svc.url, TEST_ADMIN_ID, TEST_ADMIN_SECRET);
    await http(`${svc.url}/v1/clients`, { token, json: { name: 7 } }); // 400 with the token in the header
    await http(`${svc.url}/v1/events`, { token: `${token}x`, json: {} }); // 401: a bad token
    await http(`${svc.url}/v1/events`, {
      headers: { authorization: `Basic ${btoa(`${token}:`)}` },
      json: {},
    });
    await new Promise((r) => setTimeout(r, 200));
    const out = svc.output();
    expect(lines(svc).length).toBeGreaterThan(3);
    for (const secret of [wrongSecret, TEST_ADMIN_SECRET, token, token.split('.')[2]]) {
      expect(out).not.toContain(secret);
    }
  });
});
