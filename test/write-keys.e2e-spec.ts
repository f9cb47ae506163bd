import { randomUUID } from 'node:crypto';
import {
  http,
  adminToken,
  registerClient,
  startApp,
  type TestApp,
  type TestClient,
  waitFor,
} from './helpers/app';
import { withDb } from './helpers/db';
import type { WriteKeyDto, WriteKeyInfoDto, WriteKeyListDto } from './helpers/wire';
import { writeKeyAuth } from './helpers/write-keys';

/** Write keys one by one: listed, limited to origins, revoked alone, in every process. */
describe('Write-key management (e2e)', () => {
  let t: TestApp;
  let other: TestApp;
  let admin: string;
  let writer: TestClient;

  const keysUrl = (clientId: string, keyId?: string) =>
    `${t.url}/v1/clients/${clientId}/write-keys${keyId ? `/${keyId}` : ''}`;
  const issue = (clientId: string, json?: unknown) =>
    http<WriteKeyDto>(keysUrl(clientId), {
      method: 'POST',
      token: admin,
      json,
    });
  const list = (clientId: string) => http<WriteKeyListDto>(keysUrl(clientId), { token: admin });
  const track = (url: string, key: string, headers: Record<string, string> = {}) =>
    http(`${url}/v1/track`, {
      json: { event: 'Clicked', anonymousId: randomUUID(), messageId: randomUUID() },
      headers: { authorization: writeKeyAuth(key), ...headers },
    });
  const audits = async (action: string) => {
    const res = await http<{ data: { action: string; target: string; details: Record<string, unknown> }[] }>(
      `${t.url}/v1/audit-events?action=${action}&limit=1000`,
      { token: admin },
    );
    return res.body.data;
  };

  beforeAll(async () => {
    t = await startApp();
    other = await startApp({ ROLE: 'api' });
    admin = await adminToken(t.url);
    writer = await registerClient(t.url, ['events:write'], 'key owner');
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  it('issues a key with allowed origins (normalised as browsers send them) and refuses what is not an origin', async () => {
    const res = await issue(writer.clientId, {
      allowed_origins: ['https://WWW.Example.com:443', 'http://localhost:8080/'],
    });
    expect(res.status).toBe(201);
    expect(res.body.allowed_origins).toEqual(['https://www.example.com', 'http://localhost:8080']);
    for (const bad of [
      'https://example.com/path',
      'example.com',
      'ftp://example.com',
      'https://u:p@example.com',
      '*',
    ]) {
      const refused = await issue(writer.clientId, { allowed_origins: [bad] });
      expect({ bad, status: refused.status }).toEqual({ bad, status: 400 });
      expect((refused.body as unknown as { errors: { path: string }[] }).errors[0].path).toBe(
        '/allowed_origins/0',
      );
    }
    const notArray = await issue(writer.clientId, { allowed_origins: 'https://example.com' });
    expect(notArray.status).toBe(400);
  });

  it('lists keys with id, prefix, dates and origins, never the key or its hash; last_used_at follows use', async () => {
    const owner = await registerClient(t.url, ['events:write'], 'lister');
    const a = await issue(owner.clientId);
    const b = await issue(owner.clientId, { allowed_origins: ['https://shop.example.com'] });
    const res = await list(owner.clientId);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      {
        key_id: a.body.key_id,
        client_id: owner.clientId,
        prefix: a.body.write_key.slice(0, 10),
        allowed_origins: [],
        created_at: expect.any(String),
        last_used_at: null,
        revoked_at: null,
      },
      expect.objectContaining({ key_id: b.body.key_id, allowed_origins: ['https://shop.example.com'] }),
    ]);
    const text = JSON.stringify(res.body);
    const hashes = await withDb((db) =>
      db.query<{ key_hash: string }>('SELECT key_hash FROM write_keys WHERE client_id = $1', [
        owner.clientId,
      ]),
    );
    for (const secret of [a.body.write_key, b.body.write_key, ...hashes.rows.map((r) => r.key_hash)])
      expect(text).not.toContain(secret);

    expect((await track(t.url, a.body.write_key)).status).toBe(200);
    const used = await waitFor(
      async () =>
        (await list(owner.clientId)).body.data.find((k) => k.key_id === a.body.key_id)?.last_used_at ??
        undefined,
      15_000,
      'last_used_at',
    );
    expect(Date.parse(used)).toBeGreaterThan(Date.now() - 60_000);
    expect((await list('no-such-client')).status).toBe(404);
  });

  it('revokes one key at once in every process; the client and its other keys go on; audited once', async () => {
    const owner = await registerClient(t.url, ['events:write'], 'revoker');
    const doomed = (await issue(owner.clientId)).body;
    const kept = (await issue(owner.clientId)).body;
    // Both processes have the key cached by now.
    expect((await track(other.url, doomed.write_key)).status).toBe(200);
    expect((await track(t.url, doomed.write_key)).status).toBe(200);

    const res = await http<WriteKeyInfoDto>(keysUrl(owner.clientId, doomed.key_id), {
      method: 'DELETE',
      token: admin,
    });
    expect(res.status).toBe(200);
    expect(res.body.revoked_at).toEqual(expect.any(String));
    expect((await track(t.url, doomed.write_key)).status).toBe(401);
    // The other process heard it through Redis: no wait beyond the message's delivery.
    await waitFor(
      async () => (await track(other.url, doomed.write_key)).status === 401,
      2_000,
      'revocation elsewhere',
    );
    expect((await track(other.url, kept.write_key)).status).toBe(200);
    expect(
      (await http(`${t.url}/v1/events/batch`, { token: owner.token, json: { events: [] } })).status,
    ).not.toBe(401);

    const again = await http(keysUrl(owner.clientId, doomed.key_id), { method: 'DELETE', token: admin });
    expect(again.status).toBe(200);
    const entries = (await audits('write_key.revoked')).filter((e) => e.details.key_id === doomed.key_id);
    expect(entries).toHaveLength(1);
    expect(entries[0].target).toBe(owner.clientId);

    expect((await http(keysUrl(owner.clientId, 'key_nope'), { method: 'DELETE', token: admin })).status).toBe(
      404,
    );
    // A key is revoked only through its own client.
    expect(
      (await http(keysUrl(writer.clientId, kept.key_id), { method: 'DELETE', token: admin })).status,
    ).toBe(404);
    expect((await track(t.url, kept.write_key)).status).toBe(200);
  });

  it('PATCH sets allowed origins, at once in every process, audited', async () => {
    const owner = await registerClient(t.url, ['events:write'], 'patcher');
    const key = (await issue(owner.clientId)).body;
    const page = { origin: 'https://app.example.com' };
    expect((await track(other.url, key.write_key, page)).status).toBe(200);

    const res = await http<WriteKeyInfoDto>(keysUrl(owner.clientId, key.key_id), {
      method: 'PATCH',
      token: admin,
      json: { allowed_origins: ['https://www.example.com'] },
    });
    expect(res.status).toBe(200);
    expect(res.body.allowed_origins).toEqual(['https://www.example.com']);
    await waitFor(
      async () => (await track(other.url, key.write_key, page)).status === 403,
      2_000,
      'origin refused',
    );
    expect((await track(other.url, key.write_key, { origin: 'https://www.example.com' })).status).toBe(200);
    // Servers send no Origin: the setting is about web pages.
    expect((await track(other.url, key.write_key)).status).toBe(200);
    const entries = (await audits('write_key.updated')).filter((e) => e.details.key_id === key.key_id);
    expect(entries).toEqual([
      expect.objectContaining({
        target: owner.clientId,
        details: { key_id: key.key_id, allowed_origins: ['https://www.example.com'] },
      }),
    ]);
    const missing = await http(keysUrl(owner.clientId, key.key_id), {
      method: 'PATCH',
      token: admin,
      json: {},
    });
    expect(missing.status).toBe(400);
  });

  it('is for admins only', async () => {
    for (const [method, url] of [
      ['GET', keysUrl(writer.clientId)],
      ['PATCH', keysUrl(writer.clientId, 'key_x')],
      ['DELETE', keysUrl(writer.clientId, 'key_x')],
    ] as const) {
      const res = await http(url, {
        method,
        token: writer.token,
        json: method === 'PATCH' ? { allowed_origins: [] } : undefined,
      });
      expect({ method, status: res.status }).toEqual({ method, status: 403 });
    }
  });
});
