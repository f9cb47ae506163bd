import { randomUUID } from 'node:crypto';
import { http, registerClient } from './helpers/app';
import { appWithAdmin } from './helpers/suite';
import { TEST_ADMIN_ID, TEST_ADMIN_SECRET } from './helpers/env';

describe('response headers and bodiless requests (e2e)', () => {
  const t = appWithAdmin();

  it('token responses are never cached (Cache-Control: no-store, Pragma: no-cache), errors included', async () => {
    const ok = await http(`${t.url}/v1/auth/token`, {
      json: { client_id: TEST_ADMIN_ID, client_secret: TEST_ADMIN_SECRET },
    });
    expect(ok.status).toBe(200);
    const bad = await http(`${t.url}/v1/auth/token`, { json: { client_id: 'nobody', client_secret: 'x' } });
    expect(bad.status).toBe(401);
    for (const res of [ok, bad]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
    }
  });

  it('every response carries X-Content-Type-Options: nosniff, errors and plain Fastify routes too', async () => {
    const event = {
      session_id: 's-headers',
      category: 'page interaction',
      name: 'pageview',
      data: { host: 'www.example.com', path: '/' },
      timestamp: new Date().toISOString(),
    };
    const responses = {
      health: await http(`${t.url}/health`),
      list: await http(`${t.url}/v1/clients`, { token: t.admin }),
      unauthorized: await http(`${t.url}/v1/events?limit=1`),
      notFound: await http(`${t.url}/v1/nothing-here`),
      ingestion: await http(`${t.url}/v1/events`, { token: t.admin, json: event }),
      invalidJson: await http(`${t.url}/v1/events`, {
        token: t.admin,
        body: '{',
        headers: { 'content-type': 'application/json' },
      }),
      docs: await http(`${t.url}/docs-json`),
      dashboard: await http(`${t.url}/dashboard`),
    };
    for (const [what, res] of Object.entries(responses)) {
      expect({ what, nosniff: res.headers.get('x-content-type-options') }).toEqual({
        what,
        nosniff: 'nosniff',
      });
    }
    expect(responses.ingestion.status).toBe(202);
    expect(responses.invalidJson.status).toBe(400);
    expect(responses.notFound.status).toBe(404);
  });

  it('a DELETE or a bodiless POST with content-type: application/json and an empty body is a request without a body', async () => {
    const c = await registerClient(t.url, ['events:read']);
    const json = { 'content-type': 'application/json' };
    const rotated = await http(`${t.url}/v1/clients/${c.clientId}/secret`, {
      method: 'POST',
      token: t.admin,
      body: '',
      headers: json,
    });
    expect(rotated.status).toBe(201);
    const revoked = await http(`${t.url}/v1/clients/${c.clientId}`, {
      method: 'DELETE',
      token: t.admin,
      body: '',
      headers: json,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    // A GET with that header (and a charset) is a GET.
    const status = await http(`${t.url}/v1/events/${randomUUID()}`, {
      token: t.admin,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(status.status).toBe(404);
    // A route that takes a body still says what is missing.
    const noBody = await http(`${t.url}/v1/clients`, {
      method: 'POST',
      token: t.admin,
      body: '',
      headers: json,
    });
    expect(noBody.status).toBe(400);
    for (const path of ['/v1/events', '/v1/events/batch']) {
      const res = await http(`${t.url}${path}`, { method: 'POST', token: t.admin, body: '', headers: json });
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
  });
});
