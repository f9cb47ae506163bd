import { createHmac, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { http, registerClient, startApp, tokenFor } from './helpers/app';
import { appWithAdmin } from './helpers/suite';
import { spawnService } from './helpers/process';
import { TEST_ADMIN_ID, TEST_ADMIN_SECRET, TEST_DATABASE_URL } from './helpers/env';

const b64url = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function sign(header: object, payload: object, key: string): string {
  const head = `${b64url(header)}.${b64url(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}
/** A valid event of the wire format (its content does not matter to these tests). */
const anEvent = (session: string): Record<string, unknown> => ({
  session_id: session,
  category: 'page interaction',
  name: 'pageview',
  data: { host: 'www.example.com', path: '/' },
  timestamp: new Date().toISOString(),
});
const decodePayload = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

describe('auth (e2e)', () => {
  const t = appWithAdmin();

  describe('POST /v1/auth/token', () => {
    it('issues a bearer token for JSON credentials', async () => {
      const res = await http(`${t.url}/v1/auth/token`, {
        json: { client_id: TEST_ADMIN_ID, client_secret: TEST_ADMIN_SECRET },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'admin',
      });
      expect(decodePayload(res.body.access_token)).toMatchObject({ sub: TEST_ADMIN_ID, scope: 'admin' });
    });

    it('accepts form-encoded client credentials (RFC 6749 §4.4)', async () => {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: TEST_ADMIN_ID,
        client_secret: TEST_ADMIN_SECRET,
      });
      const res = await http(`${t.url}/v1/auth/token`, {
        body: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(200);
      expect(res.body.token_type).toBe('Bearer');
    });

    it('accepts HTTP Basic client authentication', async () => {
      const basic = Buffer.from(`${TEST_ADMIN_ID}:${TEST_ADMIN_SECRET}`).toString('base64');
      const res = await http(`${t.url}/v1/auth/token`, {
        body: 'grant_type=client_credentials',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      });
      expect(res.status).toBe(200);
    });

    it('narrows the scopes when asked, and refuses scopes the client lacks', async () => {
      const c = await registerClient(t.url, ['events:write', 'events:read']);
      const narrow = await http(`${t.url}/v1/auth/token`, {
        json: { client_id: c.clientId, client_secret: c.secret, scope: 'events:read' },
      });
      expect(narrow.status).toBe(200);
      expect(narrow.body.scope).toBe('events:read');
      const wider = await http(`${t.url}/v1/auth/token`, {
        json: { client_id: c.clientId, client_secret: c.secret, scope: 'admin' },
      });
      expect(wider.status).toBe(400);
    });

    it.each([
      ['a wrong secret', { client_id: TEST_ADMIN_ID, client_secret: 'wrong-secret' }],
      ['an unknown client', { client_id: 'nobody', client_secret: 'whatever' }],
    ])('answers 401 for %s', async (_what, body) => {
      const res = await http(`${t.url}/v1/auth/token`, { json: body });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 'invalid_client', message: expect.any(String) });
    });

    it('answers 400 with the contract error body when credentials are missing or the grant is unknown', async () => {
      const missing = await http(`${t.url}/v1/auth/token`, { json: {} });
      expect(missing.status).toBe(400);
      expect(missing.body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: '/client_id' }),
          expect.objectContaining({ path: '/client_secret' }),
        ]),
      );
      const grant = await http(`${t.url}/v1/auth/token`, {
        json: { grant_type: 'password', client_id: 'a', client_secret: 'b' },
      });
      expect({ status: grant.status, body: grant.body }).toEqual({
        status: 400,
        body: {
          code: 'bad_request',
          message: 'Only grant_type=client_credentials is supported',
          errors: [{ path: '/grant_type', message: 'must be "client_credentials"' }],
        },
      });
    });

    it('answers 400 (not 500) for malformed JSON', async () => {
      const res = await http(`${t.url}/v1/auth/token`, {
        body: '{"client_id":',
        headers: { 'content-type': 'application/json' },
      });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { code: 'invalid_json', message: 'The request body is not valid JSON' },
      });
    });
  });

  describe('deny by default', () => {
    it('answers 401 without a token on every route but token, health and docs', async () => {
      const doc = await http<{ paths: Record<string, Record<string, unknown>> }>(`${t.url}/docs-json`);
      expect(doc.status).toBe(200);
      const open = new Set(['/v1/auth/token', '/health', '/ready']);
      const routes = Object.entries(doc.body.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => ({ path, method: method.toUpperCase() })),
      );
      expect(routes.length).toBeGreaterThan(5);
      for (const { path, method } of routes) {
        if (open.has(path) || (path === '/metrics' && process.env.METRICS_PUBLIC === 'true')) continue;
        const concrete = path.replace(/\{[^}]+\}/g, '00000000-0000-7000-8000-000000000000');
        const res = await http(`${t.url}${concrete}`, {
          method,
          json: method === 'GET' || method === 'DELETE' ? undefined : {},
        });
        expect({ route: `${method} ${path}`, status: res.status }).toEqual({
          route: `${method} ${path}`,
          status: 401,
        });
        expect(res.body.code).toBe('unauthorized');
      }
    });

    it('answers 403 when the token lacks the scope', async () => {
      const writer = await registerClient(t.url, ['events:write']);
      const res = await http(`${t.url}/v1/clients`, { token: writer.token });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
    });

    it("answers 403 on the ingestion routes (served outside Nest's pipeline) to a token without events:write", async () => {
      const reader = await registerClient(t.url, ['events:read']);
      const event = anEvent('s-403');
      for (const [path, json] of [
        ['/v1/events', event],
        ['/v1/events/batch', { events: [event] }],
      ] as const) {
        const res = await http(`${t.url}${path}`, { token: reader.token, json });
        expect({ path, status: res.status, code: res.body.code }).toEqual({
          path,
          status: 403,
          code: 'forbidden',
        });
      }
    });

    it('documents the ingestion POSTs (plain Fastify routes) like every controller route', async () => {
      type Op = {
        operationId: string;
        requestBody: { content: Record<string, { schema: { $ref: string } }> };
        responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
        security: unknown[];
        tags: string[];
      };
      const doc = await http<{ paths: Record<string, Record<string, Op>>; components: { schemas: object } }>(
        `${t.url}/docs-json`,
      );
      for (const [path, body, accepted] of [
        ['/v1/events', 'EventDto', 'QueuedDto'],
        ['/v1/events/batch', 'BatchDto', 'BatchResponseDto'],
      ] as const) {
        const op = doc.body.paths[path].post;
        expect(op.tags).toEqual(['ingestion']);
        expect(op.security).toEqual([{ oauth2: ['events:write'] }, { bearer: [] }]);
        expect(op.requestBody.content['application/json'].schema.$ref).toBe(`#/components/schemas/${body}`);
        expect(op.responses['202'].content['application/json'].schema.$ref).toBe(
          `#/components/schemas/${accepted}`,
        );
        expect(Object.keys(op.responses).sort()).toEqual([
          '202',
          '400',
          '401',
          '403',
          '413',
          '415',
          '429',
          '503',
        ]);
        expect(op.responses['401'].content['application/json'].schema.$ref).toBe(
          '#/components/schemas/ErrorDto',
        );
        for (const model of [body, accepted, 'ErrorDto'])
          expect(doc.body.components.schemas).toHaveProperty(model);
      }
      // GET /v1/events (analytics) is still there beside the POST.
      expect(doc.body.paths['/v1/events'].get).toBeDefined();
    });

    it("answers the ingestion POSTs' parse errors with the contract error body", async () => {
      const writer = await registerClient(t.url, ['events:write']);
      const res = await http(`${t.url}/v1/events`, {
        token: writer.token,
        body: '{"session_id":',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ code: 'invalid_json', message: 'The request body is not valid JSON' });
      const text = await http(`${t.url}/v1/events/batch`, {
        token: writer.token,
        body: 'hello',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(415);
      expect(text.body.code).toBe('unsupported_media_type');
    });

    it('serves health, readiness and the docs without a token', async () => {
      expect((await http(`${t.url}/health`)).body).toEqual({ status: 'ok' });
      expect((await http(`${t.url}/ready`)).body).toEqual({ status: 'ready', postgres: 'up', redis: 'up' });
      const ui = await fetch(`${t.url}/docs`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('swagger');
      const doc = await http(`${t.url}/docs-json`);
      expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    });
  });

  describe('forged tokens', () => {
    it('refuses alg "none", an altered payload, a wrong key and an expired token', async () => {
      const claims = decodePayload(t.admin);
      const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
      const [h, , s] = t.admin.split('.');
      const altered = `${h}.${b64url({ ...claims, sub: 'someone-else' })}.${s}`;
      const wrongKey = sign({ alg: 'HS256', typ: 'JWT' }, claims, 'not-the-key-not-the-key-not-the-key');
      const expired = sign(
        { alg: 'HS256', typ: 'JWT' },
        { ...claims, iat: 1_600_000_000, exp: 1_600_000_100 },
        'test-jwt-secret-0123456789-0123456789-abcdef',
      );
      for (const token of [none, altered, wrongKey, expired, 'garbage']) {
        const res = await http(`${t.url}/v1/clients`, { token });
        expect(res.status).toBe(401);
      }
      expect((await http(`${t.url}/v1/clients`, { token: t.admin })).status).toBe(200);
    });
  });

  describe('clients (admin)', () => {
    it('registers a client whose secret is shown once and stored only as a salted hash', async () => {
      const res = await http(`${t.url}/v1/clients`, {
        token: t.admin,
        json: { name: 'shop', scopes: ['events:write'] },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        client_id: expect.stringMatching(/^cli_/),
        client_secret: expect.any(String),
        scopes: ['events:write'],
      });
      const list = await http(`${t.url}/v1/clients`, { token: t.admin });
      const listed = list.body.data.find((c: { client_id: string }) => c.client_id === res.body.client_id);
      expect(listed).toMatchObject({ name: 'shop', revoked_at: null });
      expect(listed.client_secret).toBeUndefined();
      expect(list.body.next_cursor).toBeNull();

      const db = new Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      const row = await db.query('SELECT secret_hash FROM clients WHERE id = $1', [res.body.client_id]);
      await db.end();
      expect(row.rows[0].secret_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(row.rows[0].secret_hash).not.toContain(res.body.client_secret);
      expect(await tokenFor(t.url, res.body.client_id, res.body.client_secret)).toEqual(expect.any(String));
    });

    it('refuses an invalid registration with field errors', async () => {
      const res = await http(`${t.url}/v1/clients`, { token: t.admin, json: { name: '', scopes: ['root'] } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining(['/name', '/scopes']),
      );
    });

    it('revokes a client: its tokens are refused at once, and so are new token requests', async () => {
      const c = await registerClient(t.url, ['events:read']);
      expect((await http(`${t.url}/v1/events?limit=1`, { token: c.token })).status).not.toBe(401);
      const del = await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'DELETE', token: t.admin });
      expect(del.status).toBe(200);
      expect(del.body.revoked_at).toEqual(expect.any(String));
      expect((await http(`${t.url}/v1/events?limit=1`, { token: c.token })).status).toBe(401);
      const again = await http(`${t.url}/v1/auth/token`, {
        json: { client_id: c.clientId, client_secret: c.secret },
      });
      expect(again.status).toBe(401);
    });

    it('revokes a writer: its token, already verified and cached by the ingestion routes, is refused at once', async () => {
      const c = await registerClient(t.url, ['events:write']);
      const event = anEvent('s-rev');
      expect((await http(`${t.url}/v1/events`, { token: c.token, json: event })).status).toBe(202);
      expect((await http(`${t.url}/v1/events`, { token: c.token, json: event })).status).toBe(202);
      expect(
        (await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'DELETE', token: t.admin })).status,
      ).toBe(200);
      for (const [path, json] of [
        ['/v1/events', event],
        ['/v1/events/batch', { events: [event] }],
      ] as const) {
        const res = await http(`${t.url}${path}`, { token: c.token, json });
        expect({ path, status: res.status }).toEqual({ path, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="the-eye"');
      }
    });

    it('revocation reaches another API process sharing Postgres and Redis at once', async () => {
      // A separate OS process, as behind a load balancer.
      const other = await spawnService({ ROLE: 'api' });
      try {
        const c = await registerClient(t.url, ['events:read']);
        // the other process has seen (and cached) the client as active
        expect((await http(`${other.url}/v1/events?limit=1`, { token: c.token })).status).toBe(200);
        expect(
          (await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'DELETE', token: t.admin })).status,
        ).toBe(200);
        expect((await http(`${other.url}/v1/events?limit=1`, { token: c.token })).status).toBe(401);
      } finally {
        await other.stop();
      }
    });

    it('rotates a secret: the old one stops working, the new one works', async () => {
      const c = await registerClient(t.url, ['events:write']);
      const res = await http(`${t.url}/v1/clients/${c.clientId}/secret`, { method: 'POST', token: t.admin });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ client_id: c.clientId, client_secret: expect.any(String) });
      const old = await http(`${t.url}/v1/auth/token`, {
        json: { client_id: c.clientId, client_secret: c.secret },
      });
      expect(old.status).toBe(401);
      expect(await tokenFor(t.url, c.clientId, res.body.client_secret)).toEqual(expect.any(String));
    });

    it('rotates a secret: every token issued before it is refused at once, on every route, in every process', async () => {
      // A second application sharing the database and Redis, as behind a load balancer.
      const other = await startApp({ ROLE: 'api' });
      try {
        const c = await registerClient(t.url, ['events:write']);
        const event = anEvent('s-rot');
        // Both processes have verified the old token and cached the client's state.
        for (const url of [t.url, other.url]) {
          expect((await http(`${url}/v1/events`, { token: c.token, json: event })).status).toBe(202);
          expect((await http(`${url}/v1/events/${randomUUID()}`, { token: c.token })).status).not.toBe(401);
        }
        // Within the same second as the token was issued (iat would not tell them apart).
        const rotated = await http(`${t.url}/v1/clients/${c.clientId}/secret`, {
          method: 'POST',
          token: t.admin,
        });
        expect(rotated.status).toBe(201);
        for (const url of [t.url, other.url]) {
          for (const [path, json] of [
            ['/v1/events', event],
            ['/v1/events/batch', { events: [event] }],
            [`/v1/events/${randomUUID()}`, undefined],
          ] as const) {
            const res = await http(`${url}${path}`, { token: c.token, json });
            expect({ url, path, status: res.status, code: res.body.code }).toEqual({
              url,
              path,
              status: 401,
              code: 'unauthorized',
            });
            expect(res.headers.get('www-authenticate')).toBe('Bearer realm="the-eye"');
          }
        }
        const fresh = await tokenFor(t.url, c.clientId, rotated.body.client_secret);
        for (const url of [t.url, other.url]) {
          expect((await http(`${url}/v1/events`, { token: fresh, json: event })).status).toBe(202);
        }
        // A second rotation refuses the token of the first.
        const again = await http(`${other.url}/v1/clients/${c.clientId}/secret`, {
          method: 'POST',
          token: t.admin,
        });
        expect(again.status).toBe(201);
        for (const url of [t.url, other.url]) {
          expect((await http(`${url}/v1/events`, { token: fresh, json: event })).status).toBe(401);
        }
      } finally {
        await other.close();
      }
    });

    it('answers 404 for unknown clients and 409 for the bootstrap admin', async () => {
      expect((await http(`${t.url}/v1/clients/cli_nope`, { method: 'DELETE', token: t.admin })).status).toBe(
        404,
      );
      expect(
        (await http(`${t.url}/v1/clients/cli_nope/secret`, { method: 'POST', token: t.admin })).status,
      ).toBe(404);
      expect(
        (await http(`${t.url}/v1/clients/${TEST_ADMIN_ID}`, { method: 'DELETE', token: t.admin })).status,
      ).toBe(409);
    });
  });
});
