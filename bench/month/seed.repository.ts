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
export async function seedDay(c: DuckDBConnection, s: SeedDay): Promise<number> {
  const sql = `COPY (
    WITH g AS (
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
    FROM t ORDER BY ${ARCHIVE_ORDER}
  ) TO ${sqlLiteral(s.path)} (FORMAT parquet, COMPRESSION zstd)`;
  const result = await c.run(sql);
  return Number(result.rowsChanged);
}
