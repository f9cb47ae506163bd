// Seeds a database with a realistic analytics data set: 1,000,000 events (default) over 30 days
// in ~50,000 sessions, the sessions and event_counts rows derived from them (as the worker would
// maintain them), and some quarantined events. For scripts/explain.ts, scripts/latency.ts and
// scripts/dashboard-paint.ts.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/the_eye_seed npx tsx scripts/seed.ts [--events N] [--reset]
//
// Creates the database and applies the migrations. Refuses to add to a non-empty events table
// unless --reset (which truncates the event tables first).
//
// The rows are generated inside PostgreSQL (INSERT … SELECT over generate_series): nothing crosses
// the socket, and the events table's indexes are dropped for the load and rebuilt once at the end
// (one sort per index instead of a random B-tree insert per row and index). All of it is one
// transaction: a failed run leaves the tables, and their indexes, as they were.
//
// Deterministic: every "random" value is hashint8extended(row number, salt), so two seeds of the
// same size are the same data set, ids included, whatever order PostgreSQL evaluates rows in.
import { Client } from 'pg';
import { migrate } from '../src/prisma/migrator';
import { COUNTS_UPSERT_CTE } from '../src/processing/events.repository';

const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_seed';
const args = process.argv.slice(2);
const argValue = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const TOTAL = argValue('--events', 1_000_000);
const SESSIONS = Math.max(1, Math.round(TOTAL / 20));
const REJECTED = Math.round(TOTAL / 100);
const RESET = args.includes('--reset');
const SESSIONS_PER_CHUNK = 25_000; // ~500,000 events per statement (sorted in memory)
const DAYS = 30;
const START = '2026-10-01T00:00:00Z';
const SPAN_MS = DAYS * 86_400_000;
// Session i holds events [bound(i), bound(i + 1)): TOTAL / SESSIONS apart, each moved by up to
// ±JITTER so sizes vary (~6–34 events at 20 per session) while staying ≥ 1.
const JITTER = Math.max(0, Math.min(7, Math.floor((Math.floor(TOTAL / SESSIONS) - 1) / 2)));

/** SQL: a uniform float in [0, 1) from a row number and a salt (53 bits of a 64-bit hash). */
const u = (salt: number, row: string): string =>
  `((hashint8extended((${row})::int8, ${salt}) & 9007199254740991)::float8 / 9007199254740992.0)`;
/** SQL: a version-4-shaped UUID derived from a text key. */
const uuid = (key: string): string =>
  `overlay(overlay(md5(${key}) placing '4' from 13) placing '8' from 17)::uuid`;
/** SQL: one of the items (SQL literals), uniformly. */
const pick = (items: string[], salt: number, row: string): string =>
  `(ARRAY[${items.join(', ')}])[1 + floor(${u(salt, row)} * ${items.length})::int]`;
/** SQL: a CASE choosing by cumulative weight. */
function weighted<T extends { weight: number }>(
  items: T[],
  salt: number,
  row: string,
  value: (item: T) => string | number,
): string {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let acc = 0;
  const arms = items.slice(0, -1).map((item) => {
    acc += item.weight;
    return `WHEN ${u(salt, row)} < ${acc / total} THEN ${value(item)}`;
  });
  return `(CASE ${arms.join(' ')} ELSE ${value(items[items.length - 1])} END)`;
}
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
/** SQL: a timestamptz as RFC 3339 with 6 digits, as clients send them. */
const rfc3339 = (ts: string): string => `to_char(${ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
/** SQL: the month's start plus a number of microseconds (exact: interval × an integer below 2^53). */
const at = (micros: string): string => `('${START}'::timestamptz + (${micros}) * interval '1 microsecond')`;

const HOSTS = ['www.consumeraffairs.com', 'shop.example.com', 'blog.example.com', 'm.example.com'].map(lit);
const PATHS = [
  '/',
  '/pricing',
  '/reviews',
  '/about',
  '/contact',
  '/blog/post-1',
  '/products/42',
  '/checkout',
  '/search',
].map(lit);
const TYPES = [
  { category: 'page interaction', name: 'pageview', weight: 55 },
  { category: 'page interaction', name: 'cta click', weight: 25 },
  { category: 'form interaction', name: 'submit', weight: 12 },
  { category: 'media', name: 'video play', weight: 4 },
  { category: 'error', name: 'js error', weight: 3 },
  { category: 'search', name: 'query', weight: 0.9 },
  { category: 'experiment', name: 'exposure', weight: 0.1 },
].map((t, i) => ({ ...t, index: i }));
const CLIENTS = [
  { id: 'web-frontend', weight: 50 },
  { id: 'mobile-ios', weight: 20 },
  { id: 'mobile-android', weight: 20 },
  { id: 'partner-widget', weight: 9 },
  { id: 'legacy-importer', weight: 1 },
];
const REASONS = [
  { reasons: ['payload_invalid'], weight: 70 },
  { reasons: ['timestamp_in_future'], weight: 15 },
  { reasons: ['unknown_event_type'], weight: 10 },
  { reasons: ['payload_invalid', 'timestamp_in_future'], weight: 4 },
  { reasons: ['payload_unstorable'], weight: 1 },
];
const clientOf = (salt: number, row: string): string => weighted(CLIENTS, salt, row, (c) => lit(c.id));

// Sessions in order of their start (the number `s` is that rank), each with its event range.
const SESSIONS_SQL = `
CREATE TEMP TABLE seed_sessions ON COMMIT DROP AS
SELECT s, start_us, client, second,
       CASE WHEN s = 0 THEN 0 ELSE s * ${TOTAL}::int8 / ${SESSIONS} + floor(${u(5, 's')} * ${2 * JITTER + 1})::int8 - ${JITTER} END AS first_event,
       CASE WHEN s = ${SESSIONS - 1} THEN ${TOTAL}::int8
            ELSE (s + 1) * ${TOTAL}::int8 / ${SESSIONS} + floor(${u(5, 's + 1')} * ${2 * JITTER + 1})::int8 - ${JITTER} END AS end_event
  FROM (SELECT row_number() OVER (ORDER BY start_us, r) - 1 AS s, start_us, client,
               CASE WHEN ${u(3, 'r')} < 0.05 THEN ${clientOf(4, 'r')} ELSE client END AS second -- a few sessions span two apps
          FROM (SELECT r, floor(${u(1, 'r')} * ${SPAN_MS - 3_600_000})::int8 * 1000 AS start_us, ${clientOf(2, 'r')} AS client
                  FROM generate_series(0, ${SESSIONS - 1}) AS r) AS drawn) AS ranked`;

function payloadSql(row: string): string {
  const base = `'host', ${pick(HOSTS, 10, row)}, 'path', ${pick(PATHS, 11, row)}`;
  const extra: Record<string, string> = {
    'cta click': `, 'element', ${pick(['signup-button', 'buy-now', 'read-more', 'nav-pricing'].map(lit), 12, row)}`,
    submit: `, 'form', jsonb_build_object('first_name', 'Ada', 'last_name', 'Lovelace', 'email', 'ada@example.com')`,
    query: `, 'q', ${pick(['mattress', 'insurance', 'solar', 'movers'].map(lit), 12, row)}`,
  };
  const arms = Object.entries(extra).map(
    ([name, more]) => `WHEN ${lit(name)} THEN jsonb_build_object(${base}${more})`,
  );
  return `CASE t.name ${arms.join(' ')} ELSE jsonb_build_object(${base}) END`;
}

// One chunk of sessions: their events in occurrence order (so seq, the arrival order, follows time
// as it would in production), and from the same rows, as the worker does, the sessions and the
// per-minute counts (whose statement triggers keep the hourly and daily rollups).
const EVENTS_SQL = `
WITH generated AS (
  SELECT i, ss.s, ss.start_us + k * 45000000 + floor(${u(6, 'i')} * 45000000)::int8 AS t_us,
         CASE WHEN ${u(9, 'i')} < 0.5 THEN ss.client ELSE ss.second END AS client_id,
         ${weighted(TYPES, 8, 'i', (t) => t.index)} AS type_index
    FROM seed_sessions ss, generate_series(0, ss.end_event - ss.first_event - 1) AS k,
         LATERAL (SELECT ss.first_event + k AS i) AS n
   WHERE ss.s >= $1 AND ss.s < $2
), inserted AS (
  INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
  SELECT ${uuid(`'event:' || g.i`)}, ${uuid(`'session:' || g.s`)}::text, t.category, t.name, ${payloadSql('g.i')},
         ${at('g.t_us')}, ${at(`g.t_us + 50000 + floor(${u(7, 'g.i')} * 2000000)::int8`)}, g.client_id
    FROM generated g
    JOIN (VALUES ${TYPES.map((t) => `(${t.index}, ${lit(t.category)}, ${lit(t.name)})`).join(', ')})
         AS t(type_index, category, name) USING (type_index)
   ORDER BY g.t_us, g.i
  RETURNING session_id, category, name, timestamp, client_id
), sessions_insert AS (
  INSERT INTO sessions (session_id, first_event_at, last_event_at, event_count, client_ids)
  SELECT session_id, min(timestamp), max(timestamp), count(*), array_agg(DISTINCT client_id)
    FROM inserted GROUP BY session_id
  RETURNING 1
), ${COUNTS_UPSERT_CTE}
SELECT (SELECT count(*) FROM inserted) AS events, (SELECT count(*) FROM sessions_insert) AS sessions`;

const ERRORS = {
  payload_invalid: ['/data/path', 'must be string'],
  timestamp_in_future: ['/timestamp', 'timestamp in future'],
  unknown_event_type: ['', 'unknown event type'],
  payload_unstorable: ['', 'payload unstorable'],
};
const REJECTED_SQL = `
WITH drawn AS (
  SELECT j, floor(${u(20, 'j')} * ${SPAN_MS})::int8 * 1000 AS ms_us,
         ${weighted(REASONS, 21, 'j', (r) => `ARRAY[${r.reasons.map(lit).join(', ')}]`)} AS reasons,
         ${weighted(TYPES, 22, 'j', (t) => t.index)} AS type_index,
         ${uuid(`'rejected:' || j`)} AS id, ${uuid(`'rejected-session:' || j`)}::text AS session_id,
         ${clientOf(27, 'j')} AS client_id
    FROM generate_series(0, ${REJECTED - 1}) AS j
), typed AS (
  SELECT d.*,
         CASE WHEN 'unknown_event_type' = ANY (reasons) THEN 'legacy' ELSE t.category END AS category,
         CASE WHEN 'unknown_event_type' = ANY (reasons) THEN ${pick(["'click v1'", "'view v0'"], 28, 'j')} ELSE t.name END AS name,
         ${at(`ms_us + floor(${u(23, 'j')} * 1000)::int8`)} AS received_at,
         CASE WHEN 'timestamp_in_future' = ANY (reasons)
              THEN ${at(`ms_us + 3600000000 + floor(${u(24, 'j')} * 86400000)::int8 * 1000`)}
              ELSE ${at(`ms_us - floor(${u(24, 'j')} * 5000)::int8 * 1000 + floor(${u(25, 'j')} * 1000)::int8`)} END AS timestamp,
         ${at(`ms_us + (20 + floor(${u(26, 'j')} * 500)::int8) * 1000`)} AS rejected_at,
         ${pick(HOSTS, 29, 'j')} AS host, CASE WHEN ${u(30, 'j')} < 0.5 THEN '42' ELSE 'null' END AS path
    FROM drawn d
    JOIN (VALUES ${TYPES.map((t) => `(${t.index}, ${lit(t.category)}, ${lit(t.name)})`).join(', ')})
         AS t(type_index, category, name) USING (type_index)
)
INSERT INTO rejected_events (event_id, session_id, category, name, raw, timestamp, received_at, client_id,
  reasons, errors, rejected_at)
SELECT id, session_id, category, name,
       format('{"id":"%s","session_id":"%s","category":"%s","name":"%s","data":{"host":"%s","path":%s},"timestamp":"%s","received_at":"%s","client_id":"%s"}',
              id, session_id, category, name, host, path, ${rfc3339('timestamp')}, ${rfc3339('received_at')}, client_id),
       timestamp, received_at, client_id, reasons,
       (SELECT jsonb_agg(jsonb_build_object('reason', e.reason, 'path', e.path, 'message', e.message) ORDER BY x.ord)
          FROM unnest(reasons) WITH ORDINALITY AS x(reason, ord)
          JOIN (VALUES ${Object.entries(ERRORS)
            .map(([r, [path, message]]) => `(${lit(r)}, ${lit(path)}, ${lit(message)})`)
            .join(', ')}) AS e(reason, path, message) USING (reason)),
       rejected_at
  FROM typed ORDER BY rejected_at, j`;

const seconds = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

/**
 * Schema versions for GET /v1/schemas/{category}/{name}: 200 types (the 7 seeded ones among
 * them) of 5 versions each, so the table spans many pages as a long-lived deployment's would.
 * Replaces the seed's own earlier rows (created_by 'seed') only; runs on every call (cheap).
 */
async function seedSchemas(db: Client): Promise<void> {
  await db.query(`DELETE FROM event_schemas WHERE created_by = 'seed'`);
  const types = TYPES.map((t): [string, string] => [t.category, t.name]);
  for (let i = types.length; i < 200; i++) types.push([`category ${i % 20}`, `type ${i}`]);
  await db.query(
    `INSERT INTO event_schemas (category, name, version, schema, created_by)
     SELECT t.category, t.name, v, jsonb_build_object('type', 'object', 'description', 'version ' || v,
       'properties', jsonb_build_object('field_' || v, jsonb_build_object('type', 'string', 'maxLength', 200))), 'seed'
     FROM unnest($1::text[], $2::text[]) AS t(category, name), generate_series(1, 5) AS v
     ON CONFLICT DO NOTHING`,
    [types.map((t) => t[0]), types.map((t) => t[1])],
  );
  await db.query('VACUUM ANALYZE event_schemas');
}

async function main(): Promise<void> {
  const migrated = await migrate(DATABASE_URL);
  if (migrated.applied.length) console.log(`applied migrations: ${migrated.applied.join(', ')}`);

  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    await seedSchemas(db);
    const existing = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n);
    if (existing > 0 && !RESET) {
      console.log(`events already holds ${existing} rows; pass --reset to reseed`);
      return;
    }
    const t0 = Date.now();
    await db.query('BEGIN');
    await db.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    await db.query(`SET LOCAL work_mem = '256MB'`);
    await db.query('SET LOCAL jit = off');
    if (RESET)
      await db.query(
        'TRUNCATE events, event_ids, sessions, event_counts, event_counts_hourly, event_counts_daily, rejected_events RESTART IDENTITY',
      );
    // The events table's indexes, as the migrations made them, rebuilt after the load.
    const { rows: indexes } = await db.query<{
      name: string;
      def: string;
      constraint_name: string | null;
      constraint_def: string | null;
    }>(
      `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def, c.conname AS constraint_name,
              pg_get_constraintdef(c.oid) AS constraint_def
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
        WHERE x.indrelid = 'events'::regclass ORDER BY i.relname`,
    );
    for (const ix of indexes)
      await db.query(
        ix.constraint_name
          ? `ALTER TABLE events DROP CONSTRAINT "${ix.constraint_name}"`
          : `DROP INDEX "${ix.name}"`,
      );

    // One partition per UTC day of the seeded month (and the day after: the last sessions run over).
    await db.query(
      `SELECT the_eye_create_event_partition(d::date)
         FROM generate_series($1::timestamptz, $1::timestamptz + $2::int * interval '1 day', interval '1 day') AS d`,
      [START, DAYS],
    );
    await db.query(SESSIONS_SQL);
    let events = 0;
    for (let s = 0; s < SESSIONS; s += SESSIONS_PER_CHUNK) {
      const { rows } = await db.query<{ events: string }>(EVENTS_SQL, [s, s + SESSIONS_PER_CHUNK]);
      events += Number(rows[0].events);
      console.log(`events: ${events} (${seconds(t0)})`);
    }
    // The deduplication ledger's keys, as the worker writes them (lookups by id start there).
    await db.query(`INSERT INTO event_ids (id, client_id, timestamp, received_at)
      SELECT id, client_id, timestamp, received_at FROM events ON CONFLICT DO NOTHING`);
    console.log(`quarantine: ${REJECTED} rejected events…`);
    if (REJECTED > 0) await db.query(REJECTED_SQL);
    for (const ix of indexes) {
      const t1 = Date.now();
      await db.query(
        ix.constraint_name
          ? `ALTER TABLE events ADD CONSTRAINT "${ix.constraint_name}" ${ix.constraint_def}`
          : ix.def,
      );
      console.log(`index ${ix.name}: ${seconds(t1)}`);
    }
    await db.query('COMMIT');

    console.log(`VACUUM ANALYZE… (${seconds(t0)})`);
    for (const table of [
      'events',
      'event_ids',
      'sessions',
      'event_counts',
      'event_counts_hourly',
      'event_counts_daily',
      'rejected_events',
    ])
      await db.query(`VACUUM ANALYZE ${table}`);

    const counts =
      await db.query(`SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM sessions) AS sessions,
      (SELECT count(*) FROM event_counts) AS event_counts, (SELECT count(*) FROM rejected_events) AS rejected_events,
      pg_size_pretty((SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits
        WHERE inhparent = 'events'::regclass)) AS events_size`);
    console.log(`seeded in ${seconds(t0)}:`, counts.rows[0]);
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
