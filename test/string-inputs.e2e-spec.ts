import { randomUUID } from 'node:crypto';
import { http, registerClient, adminToken, type HttpResult, type TestClient } from './helpers/app';
import { TEST_ADMIN_ID } from './helpers/env';
import { spawnService, type ServiceProcess } from './helpers/process';

/**
 * NUL and unpaired surrogates in every kind of string input: PostgreSQL text refuses them, so
 * before the global check they reached the database and came back as a 500 with a stack trace.
 * Each input kind must now get a 400 in the contract's body, and the log must show no stack.
 */
describe('NUL and unpaired surrogates in string inputs (e2e, real service process)', () => {
  let svc: ServiceProcess;
  let admin: string;
  let reader: TestClient;
  let writer: TestClient;

  beforeAll(async () => {
    svc = await spawnService();
    admin = await adminToken(svc.url);
    reader = await registerClient(svc.url, ['events:read'], 'string-inputs reader');
    writer = await registerClient(svc.url, ['events:write'], 'string-inputs writer');
  });
  afterAll(() => svc.stop());

  /** The log lines a request caused (output grows as the service writes). */
  const logDuring = async (fn: () => Promise<HttpResult>): Promise<{ res: HttpResult; log: string }> => {
    const before = svc.output().length;
    const res = await fn();
    // Let the service flush what it logged about this request.
    await new Promise((r) => setTimeout(r, 50));
    return { res, log: svc.output().slice(before) };
  };

  const expect400 = async (fn: () => Promise<HttpResult>): Promise<HttpResult> => {
    const { res, log } = await logDuring(fn);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
    });
    expect(JSON.stringify(res.body)).not.toMatch(/SELECT|INSERT|UPDATE|invalid byte sequence|\bat \S+ \(/);
    // A stack frame, raw or JSON-escaped in a structured log line.
    expect(log).not.toMatch(/\bat [^\n"]*\.[jt]s:\d+:\d+/);
    expect(log).not.toMatch(/invalid byte sequence|unsupported Unicode escape/i);
    return res;
  };

  // Raw JSON text: JSON.stringify would write a lone surrogate as an escape anyway, but a NUL is
  // easier to read spelled out.
  const rawJson = (url: string, body: string, token?: string, method = 'POST') =>
    http(url, { method, token, body, headers: { 'content-type': 'application/json' } });

  // A lone surrogate cannot be written in UTF-8: in a URL or a form it arrives as invalid UTF-8
  // (decoded to U+FFFD or kept escaped), so only NUL is a problem there; JSON can carry both.
  describe('NUL in URL-borne inputs', () => {
    it('in a query parameter', async () => {
      await expect400(() => http(`${svc.url}/v1/events?session_id=a%00b`, { token: reader.token }));
      await expect400(() => http(`${svc.url}/v1/stats/events?category=a%00b`, { token: reader.token }));
    });

    it('in a path parameter', async () => {
      await expect400(() => http(`${svc.url}/v1/sessions/a%00b/events`, { token: reader.token }));
      await expect400(() => http(`${svc.url}/v1/clients/a%00b`, { method: 'DELETE', token: admin }));
      await expect400(() =>
        http(`${svc.url}/v1/schemas/a%00b/x`, { method: 'PUT', token: admin, json: { type: 'object' } }),
      );
    });

    it('in a token request (form fields, HTTP Basic)', async () => {
      await expect400(() =>
        http(`${svc.url}/v1/auth/token`, {
          body: 'grant_type=client_credentials&client_id=a%00b&client_secret=secret',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      );
      const basic = Buffer.from(`${TEST_ADMIN_ID}\u0000:secret`).toString('base64');
      await expect400(() =>
        http(`${svc.url}/v1/auth/token`, {
          body: 'grant_type=client_credentials',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${basic}`,
          },
        }),
      );
    });

    it('never answers 5xx to invalid UTF-8 in a URL', async () => {
      for (const url of [
        `${svc.url}/v1/events?session_id=a%ED%A0%80b`,
        `${svc.url}/v1/sessions/a%ED%A0%80b/events`,
        `${svc.url}/v1/sessions/a%FFb/events`,
      ]) {
        const { res, log } = await logDuring(() => http(url, { token: reader.token }));
        expect(res.status).toBeLessThan(500);
        expect(log).not.toMatch(/\bat [^\n"]*\.[jt]s:\d+:\d+/);
      }
    });
  });

  describe.each([
    ['NUL', '\\u0000'],
    ['a lone high surrogate', '\\ud800'],
    ['a lone low surrogate', '\\udc00'],
  ])('%s in JSON-borne inputs', (_label, jsonForm) => {
    it('in a token request (JSON)', async () => {
      await expect400(() =>
        rawJson(`${svc.url}/v1/auth/token`, `{"client_id":"a${jsonForm}b","client_secret":"secret"}`),
      );
      await expect400(() =>
        rawJson(
          `${svc.url}/v1/auth/token`,
          `{"client_id":"${TEST_ADMIN_ID}","client_secret":"s${jsonForm}"}`,
        ),
      );
    });

    it('in a client name', async () => {
      await expect400(() =>
        rawJson(`${svc.url}/v1/clients`, `{"name":"a${jsonForm}b","scopes":["events:read"]}`, admin),
      );
    });

    it('in a cursor', async () => {
      const doc = `{"v":1,"k":"sessions","o":"asc","p":["2021-01-01T00:00:00.000000Z","a${jsonForm}b"]}`;
      const cursor = Buffer.from(doc).toString('base64url');
      await expect400(() => http(`${svc.url}/v1/sessions?cursor=${cursor}`, { token: reader.token }));
    });

    it('in an event envelope field', async () => {
      const res = await expect400(() =>
        rawJson(
          `${svc.url}/v1/events`,
          `{"session_id":"${randomUUID()}","category":"a${jsonForm}b","name":"n","data":{},"timestamp":"2021-01-01T00:00:00Z"}`,
          writer.token,
        ),
      );
      expect(res.body.errors).toEqual([expect.objectContaining({ path: '/category' })]);
    });

    it('in a schema document and a replay filter (other JSON bodies)', async () => {
      await expect400(() =>
        rawJson(`${svc.url}/v1/schemas/c/n`, `{"type":"object","description":"a${jsonForm}"}`, admin, 'PUT'),
      );
      await expect400(() =>
        rawJson(`${svc.url}/v1/rejected-events/replay`, `{"category":"a${jsonForm}"}`, admin),
      );
    });
  });

  it('still accepts such strings inside an event payload (the worker quarantines them)', async () => {
    const res = await rawJson(
      `${svc.url}/v1/events`,
      `{"session_id":"${randomUUID()}","category":"c","name":"n","data":{"t":"a\\u0000b"},"timestamp":"2021-01-01T00:00:00Z"}`,
      writer.token,
    );
    expect(res.status).toBe(202);
  });
});
