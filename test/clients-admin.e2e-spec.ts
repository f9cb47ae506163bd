import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, tokenFor, waitFor } from './helpers/app';
import { appWithAdmin } from './helpers/suite';
import { withDb } from './helpers/db';
import { TEST_ADMIN_ID } from './helpers/env';
import type { ClientDto, ClientListDto } from './helpers/wire';
import { writeKeyAuth } from './helpers/write-keys';

describe('clients: PATCH, listing fields, last_used_at (e2e)', () => {
  const t = appWithAdmin();

  async function listed(clientId: string): Promise<ClientDto> {
    const res = await http<ClientListDto>(`${t.url}/v1/clients`, { token: t.admin });
    expect(res.status).toBe(200);
    const row = res.body.data.find((c) => c.client_id === clientId);
    if (!row) throw new Error(`${clientId} not listed`);
    return row;
  }

  it('changes name, scopes and rate_limit; null puts the default back', async () => {
    const c = await registerClient(t.url, ['events:write']);
    const res = await http(`${t.url}/v1/clients/${c.clientId}`, {
      method: 'PATCH',
      token: t.admin,
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
      token: t.admin,
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
      const res = await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'PATCH', token: t.admin, json });
      expect({ json, status: res.status }).toEqual({ json, status: 400 });
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const patch = (id: string): Promise<{ status: number }> =>
      http(`${t.url}/v1/clients/${id}`, { method: 'PATCH', token: t.admin, json: { name: 'x' } });
    expect((await patch('cli_nope')).status).toBe(404);
    expect((await patch(TEST_ADMIN_ID)).status).toBe(409);
    await http(`${t.url}/v1/clients/${c.clientId}`, { method: 'DELETE', token: t.admin });
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

  describe('a scope change applies at once to what the client already holds', () => {
    const patchScopes = (id: string, scopes: string[]) =>
      http(`${t.url}/v1/clients/${id}`, { method: 'PATCH', token: t.admin, json: { scopes } });
    const anEvent = (): Record<string, unknown> => ({
      session_id: `s-${randomUUID()}`,
      category: 'page interaction',
      name: 'pageview',
      data: { host: 'www.example.com', path: '/' },
      timestamp: new Date().toISOString(),
    });
    const segmentTrack = (url: string, writeKey: string) =>
      http(`${url}/v1/track`, {
        json: { type: 'track', event: 'Clicked', userId: 'u-1', messageId: randomUUID() },
        headers: { authorization: writeKeyAuth(writeKey) },
      });

    it('a demoted admin cannot use its old token to create an admin client, in this process or another', async () => {
      const other = await startApp({ ROLE: 'api' });
      try {
        const c = await registerClient(t.url, ['admin']);
        // Both processes have verified the token and cached the client's state.
        for (const url of [t.url, other.url]) {
          expect((await http(`${url}/v1/clients`, { token: c.token })).status).toBe(200);
        }
        expect((await patchScopes(c.clientId, ['events:read'])).status).toBe(200);
        for (const url of [t.url, other.url]) {
          const res = await http(`${url}/v1/clients`, {
            token: c.token,
            json: { name: 'backdoor', scopes: ['admin'] },
          });
          expect({ url, status: res.status }).toEqual({ url, status: 403 });
          expect((await http(`${url}/v1/clients`, { token: c.token })).status).toBe(403);
          // What it still has, it keeps.
          expect((await http(`${url}/v1/events?limit=1`, { token: c.token })).status).toBe(200);
        }
      } finally {
        await other.close();
      }
    });

    it('removing events:read or events:write refuses the old token on those routes (403), adding one does not widen it', async () => {
      const c = await registerClient(t.url, ['events:read', 'events:write']);
      const narrow = await http(`${t.url}/v1/auth/token`, {
        json: { client_id: c.clientId, client_secret: c.secret, scope: 'events:write' },
      });
      expect((await http(`${t.url}/v1/events?limit=1`, { token: c.token })).status).toBe(200);
      expect((await http(`${t.url}/v1/events`, { token: c.token, json: anEvent() })).status).toBe(202);
      expect((await patchScopes(c.clientId, ['events:read'])).status).toBe(200);
      expect((await http(`${t.url}/v1/events`, { token: c.token, json: anEvent() })).status).toBe(403);
      expect(
        (await http(`${t.url}/v1/events/batch`, { token: c.token, json: { events: [anEvent()] } })).status,
      ).toBe(403);
      expect((await http(`${t.url}/v1/events?limit=1`, { token: c.token })).status).toBe(200);
      // The narrowed token (events:write only) now carries nothing its client has: refused.
      expect((await http(`${t.url}/v1/events?limit=1`, { token: narrow.body.access_token })).status).toBe(
        403,
      );
      expect((await patchScopes(c.clientId, ['events:write'])).status).toBe(200);
      expect((await http(`${t.url}/v1/events?limit=1`, { token: c.token })).status).toBe(403);
      expect((await http(`${t.url}/v1/events`, { token: c.token, json: anEvent() })).status).toBe(202);
    });

    it('a write key stops sending (401) at once when its client loses events:write, in every process', async () => {
      const other = await startApp({ ROLE: 'api' });
      try {
        const c = await registerClient(t.url, ['events:write']);
        const key = await http(`${t.url}/v1/clients/${c.clientId}/write-keys`, {
          method: 'POST',
          token: t.admin,
        });
        expect(key.status).toBe(201);
        for (const url of [t.url, other.url]) {
          expect((await segmentTrack(url, key.body.write_key)).status).toBe(200);
        }
        expect((await patchScopes(c.clientId, ['events:read'])).status).toBe(200);
        for (const url of [t.url, other.url]) {
          expect({ url, status: (await segmentTrack(url, key.body.write_key)).status }).toEqual({
            url,
            status: 401,
          });
        }
      } finally {
        await other.close();
      }
    });

    it('a write key stops sending (401) at once when its client rotates its secret; a key issued after works', async () => {
      const c = await registerClient(t.url, ['events:write']);
      const key = await http(`${t.url}/v1/clients/${c.clientId}/write-keys`, {
        method: 'POST',
        token: t.admin,
      });
      expect((await segmentTrack(t.url, key.body.write_key)).status).toBe(200);
      const rotated = await http(`${t.url}/v1/clients/${c.clientId}/secret`, {
        method: 'POST',
        token: t.admin,
      });
      expect(rotated.status).toBe(201);
      expect((await segmentTrack(t.url, key.body.write_key)).status).toBe(401);
      const fresh = await http(`${t.url}/v1/clients/${c.clientId}/write-keys`, {
        method: 'POST',
        token: t.admin,
      });
      expect(fresh.status).toBe(201);
      expect((await segmentTrack(t.url, fresh.body.write_key)).status).toBe(200);
    });
  });
});
