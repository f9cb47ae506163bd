import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { MIGRATIONS_DIR, migrate } from '../src/prisma/migrator';
import { TEST_DATABASE_URL } from './helpers/env';

/**
 * Migration 20261207220000_events_day_partitions on a database that already holds events: each
 * moves into its UTC day's partition once, with its key in the deduplication ledger.
 */
describe('events_day_partitions migration (e2e, real PostgreSQL)', () => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `${url.pathname}_partition_migration`;
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';

  const dropDb = async (): Promise<void> => {
    const c = new Client({ connectionString: admin.toString() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
    await c.end();
  };
  beforeAll(dropDb);
  afterAll(dropDb);

  it('moves the events stored before it into day partitions and the ledger', async () => {
    const before = mkdtempSync(join(tmpdir(), 'the-eye-migrations-'));
    for (const name of readdirSync(MIGRATIONS_DIR)) {
      if (/^\d/.test(name) && name < '20261207220000')
        cpSync(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
    }
    await migrate(url.toString(), before);
    const db = new Client({ connectionString: url.toString() });
    await db.connect();
    try {
      await db.query(`INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
        SELECT gen_random_uuid(), 's' || g, 'c', 'n', jsonb_build_object('g', g),
               timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour', now(), 'client'
          FROM generate_series(0, 71) g`);
      const ids = (await db.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows.map((r) => r.id);

      expect((await migrate(url.toString())).applied).toContain('20261207220000_events_day_partitions');
      const parts = await db.query<{ part: string; n: number }>(
        `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM events GROUP BY 1 ORDER BY 1`,
      );
      expect(parts.rows).toEqual([
        { part: 'events_p20260101', n: 24 },
        { part: 'events_p20260102', n: 24 },
        { part: 'events_p20260103', n: 24 },
      ]);
      expect(
        (await db.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows.map((r) => r.id),
      ).toEqual(ids);
      expect(
        (await db.query<{ id: string }>('SELECT id FROM event_ids ORDER BY id')).rows.map((r) => r.id),
      ).toEqual(ids);
    } finally {
      await db.end();
    }
  });
});
