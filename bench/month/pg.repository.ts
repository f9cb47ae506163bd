// The month bench's statements on PostgreSQL: what the service would have written for the seeded
// days (registered archive files, per-minute counts, a hot day's partition and ledger keys) and
// the sizes the report quotes. Bench databases only.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface FileRow {
  /** Relative to ARCHIVE_DIR. */
  path: string;
  day: string;
  events: number;
  bytes: number;
}

/** Per-minute counts of one day (archive rows, as the worker keeps them in event_counts). */
export interface MinuteCounts {
  bucket: string[];
  category: string[];
  name: string[];
  clientId: string[];
  count: number[];
}

const partition = (day: string): string => `events_p${day.replace(/-/g, '')}`;

/** Registers a seeded file unless it is; true when it registered it. */
export async function registerFile(pg: Client, f: FileRow): Promise<boolean> {
  const res = await pg.query(
    `INSERT INTO archive_files (path, day, events, bytes) VALUES ($1, $2::date, $3, $4)
      ON CONFLICT (path) DO NOTHING`,
    [f.path, f.day, f.events, f.bytes],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Removes UTC day `day`'s per-minute counts, before they are written again. */
function deleteMinuteCounts(pg: Client, day: string): Promise<unknown> {
  return pg.query(
    `DELETE FROM event_counts WHERE bucket >= $1::date::timestamp AT TIME ZONE 'UTC'
       AND bucket < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'`,
    [day],
  );
}

/** The day's per-minute counts replace any already there (the triggers keep the rollups exact). */
export async function replaceMinuteCounts(pg: Client, day: string, c: MinuteCounts): Promise<void> {
  await pg.query('BEGIN');
  try {
    await deleteMinuteCounts(pg, day);
    await pg.query(
      `INSERT INTO event_counts (bucket, category, name, client_id, count)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::bigint[])`,
      [c.bucket, c.category, c.name, c.clientId, c.count],
    );
    await pg.query('COMMIT');
  } catch (err) {
    await pg.query('ROLLBACK');
    throw err;
  }
}

/**
 * Loads a CSV of `events` rows (seed.repository.ts seedDayCsv) as the partition of `day`: a
 * plain table filled by one COPY, then attached, which builds the partition's indexes by sorting
 * (much faster than maintaining seven indexes row by row; the indexes come out denser than the
 * worker's, see the report). Returns the seconds of each step.
 */
export async function loadDayPartition(
  pg: Client,
  day: string,
  csvPath: string,
): Promise<{ copyS: number; attachS: number; rows: number }> {
  const table = partition(day);
  await pg.query("SET maintenance_work_mem = '1GB'");
  await pg.query(`DROP TABLE IF EXISTS ${table}`);
  await pg.query(`CREATE TABLE ${table} (LIKE events INCLUDING DEFAULTS)`);
  let t0 = performance.now();
  const copy = pg.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT csv)`));
  await pipeline(createReadStream(csvPath, { highWaterMark: 1 << 20 }), copy);
  const copyS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await pg.query(
    `ALTER TABLE events ATTACH PARTITION ${table}
      FOR VALUES FROM ('${day} 00:00:00+00') TO ('${day} 00:00:00+00'::timestamptz + interval '1 day')`,
  );
  await pg.query(`ANALYZE ${table}`);
  return { copyS, attachS: (performance.now() - t0) / 1000, rows: copy.rowCount ?? 0 };
}

/** The day's keys into the deduplication ledger (the worker writes both tables). */
export async function fillLedger(pg: Client, day: string): Promise<number> {
  const res = await pg.query(
    `INSERT INTO event_ids (id, client_id, timestamp, received_at)
     SELECT id, client_id, timestamp, received_at FROM ${partition(day)} ON CONFLICT DO NOTHING`,
  );
  return res.rowCount ?? 0;
}

/** The day's per-minute counts from its partition. */
export async function minuteCountsFromPartition(pg: Client, day: string): Promise<void> {
  await deleteMinuteCounts(pg, day);
  await pg.query(
    `INSERT INTO event_counts (bucket, category, name, client_id, count)
     SELECT date_trunc('minute', timestamp), category, name, client_id, count(*)
       FROM ${partition(day)} GROUP BY 1, 2, 3, 4`,
  );
}

/** New events are numbered after every seeded one (seeded seqs are day index × events + i). */
export async function bumpSequence(pg: Client, atLeast: number): Promise<void> {
  await pg.query(
    `SELECT setval('events_seq_seq', greatest($1::bigint, (SELECT last_value FROM events_seq_seq)))`,
    [atLeast],
  );
}

/** Rows and bytes (table, TOAST and indexes) of a day's partition; null without one. */
export async function partitionSize(
  pg: Client,
  day: string,
): Promise<{ rows: number; bytes: number } | null> {
  const res = await pg.query<{ rows: string; bytes: string }>(
    `SELECT (SELECT count(*) FROM ${partition(day)})::text AS rows,
            pg_total_relation_size('${partition(day)}')::text AS bytes
      WHERE to_regclass('${partition(day)}') IS NOT NULL`,
  );
  const r = res.rows[0];
  return r ? { rows: Number(r.rows), bytes: Number(r.bytes) } : null;
}

/** Rows and bytes of the ledger (table and its indexes). */
export async function ledgerSize(pg: Client): Promise<{ rows: number; bytes: number }> {
  const res = await pg.query<{ rows: string; bytes: string }>(
    `SELECT (SELECT count(*) FROM event_ids)::text AS rows, pg_total_relation_size('event_ids')::text AS bytes`,
  );
  return { rows: Number(res.rows[0].rows), bytes: Number(res.rows[0].bytes) };
}

/** The registered archive, per day. */
export async function registeredDays(pg: Client): Promise<{ day: string; events: number; bytes: number }[]> {
  const res = await pg.query<{ day: string; events: string; bytes: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(events)::text AS events, sum(bytes)::text AS bytes
       FROM archive_files GROUP BY day ORDER BY day`,
  );
  return res.rows.map((r) => ({ day: r.day, events: Number(r.events), bytes: Number(r.bytes) }));
}

/** What one client stored (the month bench's ingestion phases each use a new client). */
export async function clientRows(
  pg: Client,
  clientId: string,
): Promise<{ events: number; rejected: number }> {
  const [e, r] = await Promise.all([
    pg.query<{ n: string }>('SELECT count(*)::text AS n FROM events WHERE client_id = $1', [clientId]),
    pg.query<{ n: string }>('SELECT count(*)::text AS n FROM rejected_events WHERE client_id = $1', [
      clientId,
    ]),
  ]);
  return { events: Number(e.rows[0].n), rejected: Number(r.rows[0].n) };
}

/** Up to `n` session ids of a hot day, drawn from the table's pages at random. */
export async function hotSessions(pg: Client, day: string, n: number): Promise<string[]> {
  const res = await pg.query<{ session_id: string }>(
    `SELECT DISTINCT session_id FROM ${partition(day)} TABLESAMPLE SYSTEM (1) LIMIT $1`,
    [n],
  );
  return res.rows.map((r) => r.session_id);
}

/** The days that have a partition now. */
export async function hotDays(pg: Client): Promise<string[]> {
  const res = await pg.query<{ relname: string }>(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
  );
  return res.rows.map((r) => r.relname.replace(/^events_p(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3'));
}

/** Drops a month-bench database (the service creates it again, empty, at its start). */
export async function dropMonthDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^the_eye_month[a-z0-9_]*$/.test(name)) throw new Error(`not a month-bench database: ${name}`);
  const { Client: PgClient } = await import('pg');
  const admin = new PgClient({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Whether a process is reading a day out of `events` for the archive (archive-source.repository.ts). */
export async function archiveReadRunning(pg: Client): Promise<boolean> {
  const res = await pg.query(
    `SELECT 1 FROM pg_stat_activity
      WHERE state = 'active' AND query LIKE '%extract(epoch FROM e.timestamp)%' AND pid <> pg_backend_pid()`,
  );
  return (res.rowCount ?? 0) > 0;
}

/** Whether `day` is in the archive's registry and no longer has a partition. */
export async function dayMoved(pg: Client, day: string): Promise<boolean> {
  const res = await pg.query(`SELECT 1 FROM archive_files WHERE day = $1::date AND to_regclass($2) IS NULL`, [
    day,
    partition(day),
  ]);
  return (res.rowCount ?? 0) > 0;
}
