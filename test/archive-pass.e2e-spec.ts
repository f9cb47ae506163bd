import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { ArchivePassService, type ArchivePassResult } from '../src/archive/archive-pass.service';
import { adminToken, http, registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { waitProcessed, withDb } from './helpers/db';
import { TEST_ARCHIVE_DIR } from './helpers/env';

/**
 * The archive pass (src/archive/archive-pass.service.ts) against the real database and disk: days
 * move from their partitions to registered Parquet files; a pass killed at each step of a move
 * leaves every event in exactly one tier, and the next pass finishes the move.
 */
describe('archive pass (e2e)', () => {
  let t: TestApp;
  let admin: string;
  let writer: TestClient;

  beforeAll(async () => {
    t = await startApp({
      EVENTS_RETENTION_DAYS: '1500',
      REJECTED_RETENTION_DAYS: '30',
      DEDUPE_WINDOW_DAYS: '7',
    });
    admin = await adminToken(t.url);
    writer = await registerClient(t.url, ['events:write'], 'archive pass writer');
  }, 60_000);
  afterAll(() => t?.close());

  const CATEGORY = 'archive pass';
  const event = (day: string, i: number, session = randomUUID(), id = randomUUID()) => ({
    id,
    session_id: session,
    category: CATEGORY,
    name: `step ${i % 3}`,
    data: { i },
    timestamp: `${day}T${String(i % 24).padStart(2, '0')}:00:00.${String(i).padStart(6, '0')}Z`,
  });

  async function send(events: ReturnType<typeof event>[]): Promise<void> {
    const res = await http(`${t.url}/v1/events/batch`, { token: writer.token, json: { events } });
    expect(res.status).toBe(202);
    await waitProcessed(events.map((e) => e.id));
  }

  const pass = async (before?: string): Promise<ArchivePassResult> => {
    const res = await http<ArchivePassResult>(`${t.url}/v1/ops/archive`, {
      token: admin,
      json: before === undefined ? {} : { before },
    });
    expect(res.status).toBe(200);
    return res.body;
  };

  const partitionExists = (day: string): Promise<boolean> =>
    withDb(async (db) => {
      const r = await db.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [
        `events_p${day.replace(/-/g, '')}`,
      ]);
      return r.rows[0].e as boolean;
    });

  /** The ids of `day` in each tier: PostgreSQL's rows and the rows of the day's registered files. */
  async function tiers(day: string): Promise<{ hot: string[]; archived: string[] }> {
    const { hot, files } = await withDb(async (db) => {
      const h = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM events WHERE category = $1 AND timestamp >= $2::date AND timestamp < $2::date + 1`,
        [CATEGORY, day],
      );
      const f = await db.query<{ path: string }>(`SELECT path FROM archive_files WHERE day = $1::date`, [
        day,
      ]);
      return { hot: h.rows.map((r) => r.id), files: f.rows.map((r) => join(TEST_ARCHIVE_DIR, r.path)) };
    });
    let archived: string[] = [];
    if (files.length > 0) {
      const duck = await DuckDBInstance.create(':memory:');
      const c = await duck.connect();
      const list = files.map((p) => `'${p}'`).join(', ');
      const r = await c.runAndReadAll(
        `SELECT id::VARCHAR AS id FROM read_parquet([${list}]) WHERE category = '${CATEGORY}'`,
      );
      archived = (r.getRowObjects() as { id: string }[]).map((row) => row.id);
      c.closeSync();
      duck.closeSync();
    }
    return { hot, archived };
  }

  /** Every id sent for `day` is in exactly one tier, once. */
  async function expectExactlyOnce(day: string, ids: string[]): Promise<{ hot: number; archived: number }> {
    const { hot, archived } = await tiers(day);
    expect([...hot, ...archived].sort()).toEqual([...ids].sort());
    return { hot: hot.length, archived: archived.length };
  }

  it('moves the closed days before `before` to registered Parquet files and drops their partitions', async () => {
    const d1 = '2025-03-01';
    const d2 = '2025-03-02';
    const session = randomUUID(); // spans both days
    const e1 = Array.from({ length: 30 }, (_, i) => event(d1, i, i % 2 ? session : undefined));
    const e2 = Array.from({ length: 20 }, (_, i) => event(d2, i, i % 2 ? session : undefined));
    await send([...e1, ...e2]);
    expect(await partitionExists(d1)).toBe(true);

    const result = await pass('2025-03-03');
    const byDay = new Map(result.archived.map((a) => [a.date, a]));
    expect(byDay.get(d1)).toMatchObject({ events: expect.any(Number), files: 1 });
    expect(byDay.get(d1)!.events).toBeGreaterThanOrEqual(30);
    expect(byDay.get(d1)!.bytes).toBeGreaterThan(0);
    expect(result.dropped_partitions).toEqual(expect.arrayContaining([d1, d2]));
    expect(await partitionExists(d1)).toBe(false);
    expect(
      await expectExactlyOnce(
        d1,
        e1.map((e) => e.id),
      ),
    ).toEqual({ hot: 0, archived: 30 });
    expect(
      await expectExactlyOnce(
        d2,
        e2.map((e) => e.id),
      ),
    ).toEqual({ hot: 0, archived: 20 });

    const storage = await http(`${t.url}/v1/ops/storage`, { token: admin });
    expect(storage.status).toBe(200);
    expect(storage.body.archive.days).toBeGreaterThanOrEqual(2);
    expect(storage.body.archive.events).toBeGreaterThanOrEqual(50);
    expect(storage.body.settings).toMatchObject({ events_hot_days: 7, events_retention_days: 1500 });
    const audit = await http(`${t.url}/v1/audit-events?action=archive.pass`, { token: admin });
    expect(audit.body.data.length).toBeGreaterThan(0);
    const metrics = (await http<string>(`${t.url}/metrics`, { token: admin })).body;
    expect(Number(/^the_eye_archive_passes_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^the_eye_archived_events_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(50);
    expect(
      Number(/^the_eye_storage_days\{tier="archive"\} (\d+)/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(2);
    expect(/^the_eye_storage_bytes\{tier="hot"\} \d+/m.test(metrics)).toBe(true);

    // Nothing left to move before that day: a second pass moves nothing of it.
    expect((await pass('2025-03-03')).archived.map((a) => a.date)).not.toContain(d1);
  });

  it('stores a resend of an archived event once (the ledger spans both tiers)', async () => {
    const day = '2025-03-05';
    const first = event(day, 1);
    await send([first]);
    await pass('2025-03-06');
    await send([{ ...first, data: { i: -1 } }]);
    expect(await expectExactlyOnce(day, [first.id])).toEqual({ hot: 0, archived: 1 });
  });

  it('stores late events for an archived day in a new partition, then as a second file of the day', async () => {
    const day = '2025-03-07';
    const early = [event(day, 1), event(day, 2)];
    await send(early);
    await pass('2025-03-08');
    const late = [event(day, 3)];
    await send(late);
    expect(await partitionExists(day)).toBe(true);
    const all = [...early, ...late].map((e) => e.id);
    expect(await expectExactlyOnce(day, all)).toEqual({ hot: 1, archived: 2 });
    const again = await pass('2025-03-08');
    expect(again.archived.find((a) => a.date === day)).toMatchObject({ events: 1, files: 2 });
    expect(await expectExactlyOnce(day, all)).toEqual({ hot: 0, archived: 3 });
  });

  it('leaves a day that received events while its file was written for the next pass', async () => {
    const day = '2025-03-09';
    const first = [event(day, 1)];
    await send(first);
    const late = event(day, 2);
    const result = await t.app.get(ArchivePassService).run({
      before: '2025-03-10',
      hook: async (step, at) => {
        if (step === 'written' && at === day) await send([late]);
      },
    });
    expect(result?.retry_days).toEqual([day]);
    const ids = [first[0].id, late.id];
    expect(await expectExactlyOnce(day, ids)).toEqual({ hot: 2, archived: 0 });
    expect((await readdir(join(TEST_ARCHIVE_DIR, 'events', `date=${day}`)).catch(() => [])).length).toBe(0);
    await pass('2025-03-10');
    expect(await expectExactlyOnce(day, ids)).toEqual({ hot: 0, archived: 2 });
  });

  describe.each(['written', 'registered', 'dropped', 'committed'] as const)('killed after "%s"', (step) => {
    it('leaves every event in exactly one tier, and the next pass finishes the move', async () => {
      const day = {
        written: '2025-04-01',
        registered: '2025-04-02',
        dropped: '2025-04-03',
        committed: '2025-04-04',
      }[step];
      const sent = Array.from({ length: 12 }, (_, i) => event(day, i));
      await send(sent);
      const ids = sent.map((e) => e.id);
      const next = `${day.slice(0, 8)}${String(Number(day.slice(8)) + 1).padStart(2, '0')}`;
      const child = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(__dirname, 'helpers', 'archive-pass-child.ts'), step, next],
        { env: process.env },
      ).then(
        () => 'exited',
        (err: { signal?: string }) => err.signal,
      );
      expect(child).toBe('SIGKILL');
      const killed = await expectExactlyOnce(day, ids);
      expect(killed).toEqual(step === 'committed' ? { hot: 0, archived: 12 } : { hot: 12, archived: 0 });
      const dirFiles = await readdir(join(TEST_ARCHIVE_DIR, 'events', `date=${day}`));
      expect(dirFiles.filter((f) => f.endsWith('.parquet'))).toHaveLength(1);

      const resumed = await pass(next);
      if (step !== 'committed') {
        expect(resumed.orphans_removed).toBeGreaterThanOrEqual(1);
        expect(resumed.archived.find((a) => a.date === day)).toMatchObject({ events: 12, files: 1 });
      }
      expect(await expectExactlyOnce(day, ids)).toEqual({ hot: 0, archived: 12 });
      expect(await partitionExists(day)).toBe(false);
      expect((await readdir(join(TEST_ARCHIVE_DIR, 'events', `date=${day}`))).length).toBe(1);
    }, 60_000);
  });

  it('deletes what is older than the retention horizons, and quarantines events beyond it', async () => {
    // EVENTS_RETENTION_DAYS=1500: a day over 1,500 days ago is beyond it.
    const old = new Date(Date.now() - 1600 * 86_400_000).toISOString().slice(0, 10);
    const tooOld = event(old, 1);
    await send([tooOld]);
    const status = await http(`${t.url}/v1/events/${tooOld.id}`, { token: admin });
    expect(status.body.status).toBe('rejected');
    expect(status.body.reasons).toEqual(['timestamp_beyond_retention']);

    // A partition and an archive file of days beyond the horizon (put there as an older
    // configuration would have left them), a quarantined event older than 30 days.
    const [oldHot, oldArchived] = ['2020-01-01', '2020-01-02'];
    await withDb(async (db) => {
      for (const d of [oldHot, oldArchived])
        await db.query(`SELECT the_eye_create_event_partition($1::date)`, [d]);
      for (const d of [oldHot, oldArchived]) {
        await db.query(
          `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
           VALUES ($1, 's', $2, 'x', '{}', $3::date + interval '1 hour', now(), $4)`,
          [randomUUID(), CATEGORY, d, writer.clientId],
        );
      }
      await db.query(
        `UPDATE rejected_events SET rejected_at = now() - interval '31 days' WHERE event_id = $1`,
        [tooOld.id],
      );
    });
    const archivedFile = join(TEST_ARCHIVE_DIR, 'events', `date=${oldArchived}`, 'part-old.parquet');
    await withDb(async (db) => {
      await db.query(`INSERT INTO archive_files (path, day, events, bytes) VALUES ($1, $2::date, 1, 4)`, [
        join('events', `date=${oldArchived}`, 'part-old.parquet'),
        oldArchived,
      ]);
      await db.query(`SELECT the_eye_drop_event_partition($1::date)`, [oldArchived]);
    });
    await writeFile(archivedFile, 'PAR1').catch(async () => {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(TEST_ARCHIVE_DIR, 'events', `date=${oldArchived}`), { recursive: true });
      await writeFile(archivedFile, 'PAR1');
    });

    const result = await pass();
    expect(result.deleted_days).toEqual(expect.arrayContaining([oldHot, oldArchived]));
    expect(await partitionExists(oldHot)).toBe(false);
    expect(existsSync(archivedFile)).toBe(false);
    expect(result.rejected_deleted).toBeGreaterThanOrEqual(1);
    expect((await http(`${t.url}/v1/events/${tooOld.id}`, { token: admin })).status).toBe(404);
  });

  it('forgets deduplication keys older than DEDUPE_WINDOW_DAYS once their event has left PostgreSQL', async () => {
    const e = event('2025-05-01', 1);
    await send([e]);
    await withDb((db) =>
      db.query(`UPDATE event_ids SET received_at = now() - interval '8 days' WHERE id = $1`, [e.id]),
    );
    const key = (): Promise<number> =>
      withDb(async (db) => (await db.query(`SELECT 1 FROM event_ids WHERE id = $1`, [e.id])).rowCount ?? 0);
    // Still in its partition: kept (GET /v1/events/{id} finds hot events through the ledger).
    await pass('2025-05-01');
    expect(await key()).toBe(1);
    expect((await http(`${t.url}/v1/events/${e.id}`, { token: admin })).body.status).toBe('stored');
    // Moved to the archive: forgotten.
    const result = await pass('2025-05-02');
    expect(result.ledger_keys_trimmed).toBeGreaterThanOrEqual(1);
    expect(await key()).toBe(0);
  });
});
