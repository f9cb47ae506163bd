import { adminToken, http, registerClient, startApp, type TestApp, tokenFor, waitFor } from './helpers/app';
import { withDb } from './helpers/db';
import { TEST_ADMIN_ID } from './helpers/env';

interface ClientRow {
  client_id: string;
  name: string;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  rate_limit: number | null;
}

describe('clients: PATCH, listing fields, last_used_at (e2e)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t.url);
  });
  afterAll(() => t.close());

  async function listed(clientId: string): Promise<ClientRow & Record<string, unknown>> {
    const res = await http<{ data: ClientRow[] }>(`${t.url}/v1/clients`, { token: admin });
    expect(res.status).toBe(200);
    const row = res.body.data.find((c) => c.client_id === clientId);
    if (!row) throw new Error(`${clientId} not listed`);
    return row as ClientRow & Record<string, unknown>;
  }

  it('changes name, scopes and rate_limit; null puts the default back', async () => {
    const c = await registerClient(t.url, ['events:write']);
    const res = await http(`${t.url}/v1/clients/${c.clientId}`, {
      method: 'PATCH',
      token: admin,
      json: { name: 'renamed', scopes: ['events:write', 'events:read'], rate_limit: 250 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      client_id: c.clientId,
      name: 'renamed',
      scopes: ['events:write', 'events:read'],
      rate_limit: 250,
    });
    expect(await listed(c.clientId)).toMatchObject({ name: 'renamed', rate_limit: 250 });
    // New scopes apply to tokens issued from now on.
    const token = await tokenFor(t.url, c.clientId, c.secret);
    expect((await http(`${t.url}/v1/events?limit=1`, { token })).status).toBe(200);

    const back = await http(`${t.url}/v1/clients/${c.clientId}`, {
      method: 'PATCH',
      token: admin,
      json: { rate_limit: null },
    });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ name: 'renamed', rate_limit: null });
  });

  it('refuses bad changes with field errors, unknown clients with 404, the bootstrap admin and revoked clients with 409', async () => {
    const c = await registerClient(t.url, ['events:write']);
    const cases: [unknown, string][] = [
      [{}, '/'],
      [{ rate_limit: -1 }, '/rate_limit'],
      [{ rate_limit: 1.5 }, '/rate_limit'],
      [{ rate_limit: '10' }, '/rate_limit'],
      [{ scopes: ['root'] }, '/scopes'],
      [{ scopes: [] }, '/scopes'],
      [{ name: '' }, '/name'],
      [{ secret: 'x' }, '/secret'],
    ];
    for (const [json, path] of cases) {
      const res = await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'PATCH', token: admin, json });
      expect({ json, status: res.status }).toEqual({ json, status: 400 });
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const patch = (id: string): Promise<{ status: number }> =>
      http(`${t.url}/v1/clients/${id}`, { method: 'PATCH', token: admin, json: { name: 'x' } });
    expect((await patch('cli_nope')).status).toBe(404);
    expect((await patch(TEST_ADMIN_ID)).status).toBe(409);
    await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'DELETE', token: admin });
    expect((await patch(c.clientId)).status).toBe(409);
  });

  it('lists created_at, last_used_at, revoked_at and rate_limit, never a secret or its hash', async () => {
    const c = await registerClient(t.url, ['events:read']);
    const row = await listed(c.clientId);
    expect(row).toEqual({
      client_id: c.clientId,
      name: 'test client',
      scopes: ['events:read'],
      created_at: expect.any(String),
      rotated_at: null,
      revoked_at: null,
      last_used_at: expect.any(String),
      rate_limit: null,
    });
    expect(JSON.stringify(row)).not.toMatch(/secret|hash|scrypt/);
    expect(JSON.stringify(row)).not.toContain(c.secret);
  });

  it('sets last_used_at when the client gets a token and when it makes authenticated requests', async () => {
    const c = await registerClient(t.url, ['events:read']);
    const afterToken = (await listed(c.clientId)).last_used_at;
    expect(afterToken).not.toBeNull();
    expect(Date.now() - Date.parse(afterToken as string)).toBeLessThan(60_000);

    await withDb((db) => db.query('UPDATE clients SET last_used_at = NULL WHERE id = $1', [c.clientId]));
    // A request with the token it already holds (no new token).
    expect((await http(`${t.url}/v1/events?limit=1`, { token: c.token })).status).toBe(200);
    await waitFor(
      async () => (await listed(c.clientId)).last_used_at !== null,
      15_000,
      'last_used_at after an authenticated request',
    );
  });
});
