// The month seed's one statement: a day of synthetic events of the brief's three types generated
// by DuckDB (range + hashes: the same arguments give the same file for a DuckDB version) and
// written straight in the archive's format (src/archive/archive-files.repository.ts), as the
// archive pass would have written the day.
import type { DuckDBConnection } from '@duckdb/node-api';
import { ARCHIVE_ORDER, sqlLiteral } from '../../src/archive/archive-files.repository';

export interface SeedDay {
  /** YYYY-MM-DD */
  day: string;
  /** Index of the day in the month (seeds the hashes and the seq range). */
  index: number;
  events: number;
  /** Events per session. */
  sessionLength: number;
  /** One event in `rareEvery` is the rare type. */
  rareEvery: number;
  path: string;
}

/**
 * Writes one day. Sessions of `sessionLength` events start uniformly over the day and last at most
 * ~20 minutes; a session opens with a pageview, then pageviews (~55 %), CTA clicks (~30 %) and
 * form submits (~15 %). Payloads are jsonb's text of the builtin schemas' shapes, with a few
 * hundred hosts/paths; ids are UUIDs, session ids UUID text (what browser SDKs send), three clients.
 */
function seedSelect(s: Omit<SeedDay, 'path'>): string {
  return `WITH g AS (
      SELECT i, i // ${s.sessionLength} AS sn, i % ${s.sessionLength} AS k,
        hash(${s.index}, i // ${s.sessionLength}) AS hs, hash(${s.index}, i, 'e') AS he
      FROM range(${s.events}) t(i)),
    t AS (
      SELECT *,
        md5(${s.index} || '-' || sn) AS sh, md5(${s.index} || ':' || i) AS eh,
        CASE WHEN he % ${s.rareEvery} = 0 THEN 3
          WHEN k = 0 THEN 0 WHEN he % 100 < 55 THEN 0 WHEN he % 100 < 85 THEN 1 ELSE 2 END AS type,
        ('https://' || ['www.consumeraffairs.com', 'shop.example.com', 'help.example.com'][1 + (hs % 3)::INT]) AS host,
        '/reviews/' || (he % 997) || '/' || ['compare', 'read', 'write', 'photos'][1 + (he % 4)::INT] AS path,
        epoch_us(${sqlLiteral(s.day)}::TIMESTAMP) + (hs % ${86_400 - 60 * (s.sessionLength + 1)})::BIGINT * 1000000
          + k * 60000000 + (he % 59000000)::BIGINT AS ts_us
      FROM g)
    SELECT
      (substr(eh, 1, 8) || '-' || substr(eh, 9, 4) || '-4' || substr(eh, 14, 3) || '-8' || substr(eh, 18, 3) || '-' || substr(eh, 21, 12))::UUID AS id,
      (${s.index}::BIGINT * ${s.events} + i + 1) AS seq,
      substr(sh, 1, 8) || '-' || substr(sh, 9, 4) || '-4' || substr(sh, 14, 3) || '-a' || substr(sh, 18, 3) || '-' || substr(sh, 21, 12) AS session_id,
      ['page interaction', 'page interaction', 'form interaction', 'form interaction'][type + 1] AS category,
      ['pageview', 'cta click', 'submit', 'reset'][type + 1] AS name,
      timezone('UTC', make_timestamp(ts_us)) AS timestamp,
      timezone('UTC', make_timestamp(ts_us + 40000 + (he % 900000)::BIGINT)) AS received_at,
      'client-' || (hs % 3) AS client_id,
      CASE type
        WHEN 0 THEN '{"host": "' || host || '", "path": "' || path || '"}'
        WHEN 1 THEN '{"host": "' || host || '", "path": "' || path || '", "element": "'
          || ['signup-button', 'read-more', 'compare-plans', 'write-review'][1 + (he % 4)::INT] || '"}'
        WHEN 2 THEN '{"form": {"plan": "' || ['basic', 'pro', 'team'][1 + (he % 3)::INT] || '", "email": "user'
          || (hs % 100000) || '@example.com", "newsletter": ' || CASE WHEN he % 2 = 0 THEN 'true' ELSE 'false' END
          || '}, "host": "' || host || '", "path": "' || path || '"}'
        ELSE '{"form": {}, "host": "' || host || '", "path": "/reset"}'
      END AS data
    FROM t`;
}

export async function seedDay(c: DuckDBConnection, s: SeedDay): Promise<number> {
  const result = await c.run(
    `COPY (${seedSelect(s)} ORDER BY ${ARCHIVE_ORDER})
      TO ${sqlLiteral(s.path)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  return Number(result.rowsChanged);
}

export interface DerivedDay {
  /** The seeded file of day `fromIndex` (seedDay). */
  source: string;
  fromIndex: number;
  /** YYYY-MM-DD of the new day, `index - fromIndex` days after the source's. */
  index: number;
  events: number;
  path: string;
}

/**
 * Writes day `index` as a copy of a seeded day shifted in time: timestamps by whole days, seqs by
 * whole days of events, and the last three hex digits of each id and session id set to the day's
 * index, so that every day has its own events and sessions. The file's order (session_id,
 * timestamp, seq) is kept without sorting: the sessions' order is decided by their first 33
 * characters, which do not change. About 5x faster than seedDay on this machine.
 */
export async function deriveDay(c: DuckDBConnection, d: DerivedDay): Promise<number> {
  const shift = d.index - d.fromIndex;
  const tag = `printf('%03x', ${d.index % 4096})`;
  const result = await c.run(
    `SET preserve_insertion_order = true;
    COPY (SELECT (left(id::VARCHAR, 33) || ${tag})::UUID AS id, seq + ${shift * d.events} AS seq,
        left(session_id, 33) || ${tag} AS session_id, category, name,
        timestamp + to_hours(${24 * shift}) AS timestamp, received_at + to_hours(${24 * shift}) AS received_at,
        client_id, data
      FROM read_parquet(${sqlLiteral(d.source)}))
    TO ${sqlLiteral(d.path)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  return Number(result.rowsChanged);
}

/**
 * The same day as CSV in the column order of PostgreSQL's `events` (stored_at = received_at), for
 * COPY into the day's partition: the day the bench moves through the real archive pass. Unsorted,
 * as the worker would have stored it (by arrival).
 */
export async function seedDayCsv(c: DuckDBConnection, s: SeedDay): Promise<number> {
  const result = await c.run(
    `COPY (SELECT id, seq, session_id, category, name, data,
        strftime(timezone('UTC', timestamp), '%Y-%m-%d %H:%M:%S.%f+00') AS timestamp,
        strftime(timezone('UTC', received_at), '%Y-%m-%d %H:%M:%S.%f+00') AS received_at,
        strftime(timezone('UTC', received_at), '%Y-%m-%d %H:%M:%S.%f+00') AS stored_at, client_id
      FROM (${seedSelect(s)}) ORDER BY received_at)
      TO ${sqlLiteral(s.path)} (FORMAT csv, HEADER false)`,
  );
  return Number(result.rowsChanged);
}

/** A file's per-minute counts per type and client (event_counts' rows), as column arrays. */
export async function minuteCounts(
  c: DuckDBConnection,
  path: string,
): Promise<{ bucket: string[]; category: string[]; name: string[]; clientId: string[]; count: number[] }> {
  const rows = (
    await c.runAndReadAll(
      `SELECT strftime(date_trunc('minute', timezone('UTC', timestamp)), '%Y-%m-%dT%H:%M:00Z') AS bucket,
          category, name, client_id, count(*)::DOUBLE AS n
        FROM read_parquet(${sqlLiteral(path)}) GROUP BY ALL`,
    )
  ).getRowObjects();
  return {
    bucket: rows.map((r) => String(r.bucket)),
    category: rows.map((r) => String(r.category)),
    name: rows.map((r) => String(r.name)),
    clientId: rows.map((r) => String(r.client_id)),
    count: rows.map((r) => Number(r.n)),
  };
}

/** A Parquet file's row count (its footer). */
export async function parquetRows(c: DuckDBConnection, path: string): Promise<number> {
  const rows = (
    await c.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM read_parquet(${sqlLiteral(path)})`)
  ).getRowObjects();
  return Number(rows[0].n);
}
