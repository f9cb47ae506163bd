import type { Pool } from 'pg';
import { ANALYTICS_POOL } from '../src/analytics/analytics-pool';
import { Client } from 'pg';
import { migrate } from '../src/prisma/migrator';
import { PG_POOL } from '../src/prisma/pg-pool';
import { adminToken, http, type HttpResult, registerClient, startApp } from './helpers/app';
import { appWithAdmin } from './helpers/suite';
import { withDb } from './helpers/db';
import { TEST_ADMIN_ID, TEST_DATABASE_URL } from './helpers/env';
import type { AuditEventDto, AuditEventPageDto } from './helpers/wire';

describe('audit trail (e2e)', () => {
  const t = appWithAdmin();

  /** The entries for `target` and `action`, newest first. */
  async function entries(action: string, target: string): Promise<AuditEventDto[]> {
    const res = await http<AuditEventPageDto>(
      `${t.url}/v1/audit-events?action=${encodeURIComponent(action)}&limit=1000`,
      { token: t.admin },
    );
    expect(res.status).toBe(200);
    return res.body.data.filter((e) => e.target === target);
  }

  it('records client.created with the acting admin, never the secret or its hash', async () => {
    const res = await http(`${t.url}/v1/clients`, {
      token: t.admin,
      json: { name: 'audited shop', scopes: ['events:write'] },
    });
    expect(res.status).toBe(201);
    const [entry] = await entries('client.created', res.body.client_id);
    expect(entry).toEqual({
      id: expect.stringMatching(/^\d+$/),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      actor_client_id: TEST_ADMIN_ID,
      action: 'client.created',
      target: res.body.client_id,
      details: { name: 'audited shop', scopes: ['events:write'] },
    });
    const text = JSON.stringify(entry);
    expect(text).not.toContain(res.body.client_secret);
    expect(text).not.toContain('scrypt');
  });

  it('records client.revoked and client.rotated', async () => {
    const rotated = await registerClient(t.url, ['events:write']);
    const rot = await http(`${t.url}/v1/clients/${rotated.clientId}/secret`, {
      method: 'POST',
      token: t.admin,
    });
    expect(rot.status).toBe(201);
    const [r] = await entries('client.rotated', rotated.clientId);
    expect(r).toMatchObject({ actor_client_id: TEST_ADMIN_ID, target: rotated.clientId });
    expect(JSON.stringify(r)).not.toContain(rot.body.client_secret);

    const revoked = await registerClient(t.url, ['events:read']);
    expect(
      (await http(`${t.url}/v1/clients/${revoked.clientId}`, { method: 'DELETE', token: t.admin })).status,
    ).toBe(200);
    // Revoking again changes nothing, so it records nothing.
    expect(
      (await http(`${t.url}/v1/clients/${revoked.clientId}`, { method: 'DELETE', token: t.admin })).status,
    ).toBe(200);
    const rev = await entries('client.revoked', revoked.clientId);
    expect(rev).toHaveLength(1);
    expect(rev[0]).toMatchObject({ actor_client_id: TEST_ADMIN_ID, action: 'client.revoked' });
  });

  it('records client.updated with what changed, and nothing when nothing changed', async () => {
    const c = await registerClient(t.url, ['events:write']);
    const patch = (json: unknown): Promise<HttpResult> =>
      http(`${t.url}/v1/clients/${c.clientId}`, { method: 'PATCH', token: t.admin, json });
    expect((await patch({ name: 'renamed', rate_limit: 50 })).status).toBe(200);
    expect((await patch({ name: 'renamed' })).status).toBe(200);
    const updated = await entries('client.updated', c.clientId);
    expect(updated).toHaveLength(1);
    expect(updated[0]).toMatchObject({
      actor_client_id: TEST_ADMIN_ID,
      details: { name: { from: 'test client', to: 'renamed' }, rate_limit: { from: null, to: 50 } },
    });
  });

  it('records schema.put with the version', async () => {
    const res = await http(`${t.url}/v1/schemas/audit%20cat/audited`, {
      method: 'PUT',
      token: t.admin,
      json: { type: 'object', properties: { a: { type: 'string' } } },
    });
    expect(res.status).toBe(200);
    const [entry] = await entries('schema.put', 'audit cat/audited');
    expect(entry).toMatchObject({
      actor_client_id: TEST_ADMIN_ID,
      details: { category: 'audit cat', name: 'audited', version: res.body.version },
    });
  });

  it('records quarantine.replayed with the filter and the counts', async () => {
    const res = await http(`${t.url}/v1/rejected-events/replay`, {
      token: t.admin,
      json: { category: 'audit-nothing', reason: 'payload_invalid' },
    });
    expect(res.status).toBe(200);
    const [entry] = (await entries('quarantine.replayed', 'rejected-events')).filter(
      (e) => (e.details.filter as Record<string, unknown>).category === 'audit-nothing',
    );
    expect(entry).toMatchObject({
      actor_client_id: TEST_ADMIN_ID,
      details: {
        filter: { category: 'audit-nothing', reason: 'payload_invalid' },
        matched: 0,
        stored: 0,
        still_rejected: 0,
        more: false,
      },
    });
  });

  it('pages with a cursor, newest first, and filters by action and time', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await registerClient(t.url, ['events:read'])).clientId);
    const seen: AuditEventDto[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const res = await http<AuditEventPageDto>(
        `${t.url}/v1/audit-events?action=client.created&limit=2${q}`,
        { token: t.admin },
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen.every((e) => e.action === 'client.created')).toBe(true);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    // Newest first: the three just created lead, in reverse order.
    expect(seen.slice(0, 3).map((e) => e.target)).toEqual([...created].reverse());

    const future = await http(`${t.url}/v1/audit-events?from=2200-01-01`, { token: t.admin });
    expect(future.body).toEqual({ data: [], next_cursor: null });
    const today = new Date().toISOString().slice(0, 10);
    const bareTo = await http<AuditEventPageDto>(
      `${t.url}/v1/audit-events?action=client.created&from=${today}&to=${today}`,
      { token: t.admin },
    );
    expect(bareTo.body.data.map((e) => e.target)).toEqual(expect.arrayContaining(created));
  });

  it('answers 400 for a bad filter or cursor and 403 to a non-admin', async () => {
    for (const q of [
      'action=nope',
      'from=yesterday',
      'cursor=abc',
      'limit=0',
      'from=2026-02-02&to=2026-02-01',
    ]) {
      const res = await http(`${t.url}/v1/audit-events?${q}`, { token: t.admin });
      expect({ q, status: res.status }).toEqual({ q, status: 400 });
    }
    const reader = await registerClient(t.url, ['events:read']);
    expect((await http(`${t.url}/v1/audit-events`, { token: reader.token })).status).toBe(403);
  });

  it('is append-only in the database itself: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await withDb(async (db) => {
      const before = await db.query('SELECT count(*)::int AS n FROM audit_events');
      expect(before.rows[0].n).toBeGreaterThan(0);
      await expect(db.query("UPDATE audit_events SET action = 'x'")).rejects.toThrow(/append-only/);
      await expect(db.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
      await expect(db.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
      const after = await db.query('SELECT count(*)::int AS n FROM audit_events');
      expect(after.rows[0].n).toBe(before.rows[0].n);
    });
  });

  it("cannot be altered through the app's own connections: no DISABLE TRIGGER, UPDATE, DELETE, TRUNCATE or DROP", async () => {
    const pools = {
      main: t.app.get<Pool>(PG_POOL),
      analytics: t.app.get<Pool>(ANALYTICS_POOL, { strict: false }),
    };
    const inserted = await pools.main.query<{ id: string }>(
      "INSERT INTO audit_events (actor_client_id, action, target) VALUES ('t', 'client.created', 'role-test') RETURNING id",
    );
    expect(inserted.rows).toHaveLength(1);
    for (const [name, pool] of Object.entries(pools)) {
      const who = await pool.query<{ su: string }>("SELECT current_setting('is_superuser') AS su");
      expect({ name, superuser: who.rows[0].su }).toEqual({ name, superuser: 'off' });
      expect((await pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n).toBeGreaterThan(0);
      for (const sql of [
        'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete',
        'ALTER TABLE audit_events DISABLE TRIGGER ALL',
        'DROP TRIGGER audit_events_no_update_delete ON audit_events',
        "UPDATE audit_events SET action = 'x'",
        'DELETE FROM audit_events',
        'TRUNCATE audit_events',
        'DROP TABLE audit_events',
        'CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$',
      ]) {
        const err = await pool.query(sql).then(
          () => null,
          (e: { code?: string }) => e.code,
        );
        // 42501 insufficient_privilege (or "must be owner"); never done.
        expect({ name, sql, code: err }).toEqual({ name, sql, code: '42501' });
      }
    }
  });

  it('records the bootstrap admin created from, and re-keyed by, the environment', async () => {
    const id = `rekey-${Date.now().toString(36)}`;
    const boot = async (secret: string): Promise<void> => {
      const app = await startApp({ ADMIN_CLIENT_ID: id, ADMIN_CLIENT_SECRET: secret });
      await app.close();
    };
    await boot('first-secret-0123456789');
    await boot('first-secret-0123456789');
    await boot('second-secret-0123456789');
    const created = await entries('client.created', id);
    const rotated = await entries('client.rotated', id);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ actor_client_id: '(environment)', details: { bootstrap: true } });
    // Once: the second start with the same secret changed nothing.
    expect(rotated).toHaveLength(1);
    expect(rotated[0]).toMatchObject({
      actor_client_id: '(environment)',
      details: { bootstrap: true, reason: 'ADMIN_CLIENT_SECRET changed' },
    });
    expect(JSON.stringify([...created, ...rotated])).not.toMatch(/secret-0123456789|scrypt/);
  });

  it('holds against arbitrary SQL when the login role is a plain member of the_eye_app (no RESET ROLE way out), and the service runs with it', async () => {
    const role = 'the_eye_runtime_test';
    await withDb((db) =>
      db.query(`DO $$ BEGIN
          CREATE ROLE ${role} LOGIN IN ROLE the_eye_app;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`),
    );
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    // A start finds nothing to apply and does not need to create anything.
    expect((await migrate(url.toString())).applied).toEqual([]);
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    try {
      for (const sql of [
        'RESET ROLE',
        'ALTER TABLE audit_events DISABLE TRIGGER ALL',
        "UPDATE audit_events SET action = 'x'",
        'DROP TABLE audit_events',
      ]) {
        const code = await db.query(sql).then(
          () => (sql === 'RESET ROLE' ? 'ok' : null),
          (e: { code?: string }) => e.code,
        );
        expect({ sql, code }).toEqual({ sql, code: sql === 'RESET ROLE' ? 'ok' : '42501' });
      }
      for (const other of ['the_eye_audit', 'postgres']) {
        const code = await db.query(`SET ROLE ${other}`).then(
          () => null,
          (e: { code?: string }) => e.code,
        );
        expect({ other, code }).toEqual({ other, code: '42501' });
      }
    } finally {
      await db.end();
    }
    const app = await startApp({ DATABASE_URL: url.toString() });
    try {
      const token = await adminToken(app.url);
      const res = await http(`${app.url}/v1/clients`, {
        token,
        json: { name: 'by runtime role', scopes: ['events:read'] },
      });
      expect(res.status).toBe(201);
      const audited = await http<AuditEventPageDto>(`${app.url}/v1/audit-events?action=client.created`, {
        token,
      });
      expect(audited.body.data.map((e) => e.target)).toContain(res.body.client_id);
    } finally {
      await app.close();
    }
  }, 60_000);
});
