#!/usr/bin/env node
// Seeds a database with a realistic analytics data set: 1,000,000 events (default) over 30 days
// in ~50,000 sessions, the sessions and event_counts rows derived from them (as the worker would
// maintain them), and some quarantined events. For scripts/explain.js and scripts/latency.js.
//
//   npx tsc -p tsconfig.build.json --outDir dist-analytics
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/the_eye_seed node scripts/seed.js [--events N] [--reset]
//
// Creates the database and applies the migrations (dist-analytics/prisma/migrator.js). Refuses to
// add to a non-empty events table unless --reset (which truncates the event tables first).
'use strict';
const { randomUUID } = require('node:crypto');
const { join } = require('node:path');
const { Client } = require('pg');

const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_seed';
const args = process.argv.slice(2);
const argValue = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const TOTAL = argValue('--events', 1_000_000);
const SESSIONS = Math.max(1, Math.round(TOTAL / 20));
const REJECTED = Math.round(TOTAL / 100);
const RESET = args.includes('--reset');
const BATCH = 10_000;
const DAYS = 30;
const START_MS = Date.UTC(2026, 9, 1); // 2026-10-01T00:00:00Z
const SPAN_MS = DAYS * 86_400_000;

// Deterministic PRNG (mulberry32) so two seeds of the same size are the same data set.
let state = 0x2f6b1a3c;
function rand() {
  state = (state + 0x6d2b79f5) | 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (items) => items[Math.floor(rand() * items.length)];
function weighted(table) {
  const r = rand() * table.total;
  let acc = 0;
  for (const item of table.items) {
    acc += item.weight;
    if (r < acc) return item;
  }
  return table.items[table.items.length - 1];
}
const withTotal = (items) => ({ items, total: items.reduce((s, i) => s + i.weight, 0) });

const HOSTS = ['www.consumeraffairs.com', 'shop.example.com', 'blog.example.com', 'm.example.com'];
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
];
const TYPES = withTotal([
  { category: 'page interaction', name: 'pageview', weight: 55 },
  { category: 'page interaction', name: 'cta click', weight: 25 },
  { category: 'form interaction', name: 'submit', weight: 12 },
  { category: 'media', name: 'video play', weight: 4 },
  { category: 'error', name: 'js error', weight: 3 },
  { category: 'search', name: 'query', weight: 0.9 },
  { category: 'experiment', name: 'exposure', weight: 0.1 },
]);
const CLIENTS = withTotal([
  { id: 'web-frontend', weight: 50 },
  { id: 'mobile-ios', weight: 20 },
  { id: 'mobile-android', weight: 20 },
  { id: 'partner-widget', weight: 9 },
  { id: 'legacy-importer', weight: 1 },
]);
const REASONS = withTotal([
  { reasons: ['payload_invalid'], weight: 70 },
  { reasons: ['timestamp_in_future'], weight: 15 },
  { reasons: ['unknown_event_type'], weight: 10 },
  { reasons: ['payload_invalid', 'timestamp_in_future'], weight: 4 },
  { reasons: ['payload_unstorable'], weight: 1 },
]);

function payload(type) {
  const base = { host: pick(HOSTS), path: pick(PATHS) };
  switch (type.name) {
    case 'cta click':
      return { ...base, element: pick(['signup-button', 'buy-now', 'read-more', 'nav-pricing']) };
    case 'submit':
      return { ...base, form: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com' } };
    case 'query':
      return { ...base, q: pick(['mattress', 'insurance', 'solar', 'movers']) };
    default:
      return base;
  }
}

/** Epoch ms + extra µs → RFC 3339 with 6 digits. */
function rfc3339(ms, micros) {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** Sessions sorted by start; each yields ~20 events a few seconds to minutes apart. */
function* generateEvents() {
  const starts = Array.from(
    { length: SESSIONS },
    () => START_MS + Math.floor(rand() * (SPAN_MS - 3_600_000)),
  );
  starts.sort((a, b) => a - b);
  let remaining = TOTAL;
  for (let s = 0; s < SESSIONS; s++) {
    const sessionId = randomUUID();
    const client = weighted(CLIENTS).id;
    const second = rand() < 0.05 ? weighted(CLIENTS).id : client; // a few sessions span two apps
    const left = SESSIONS - s;
    const n =
      s === SESSIONS - 1
        ? remaining
        : Math.max(1, Math.min(remaining - (left - 1), Math.round(remaining / left + (rand() - 0.5) * 30)));
    remaining -= n;
    let t = starts[s];
    for (let i = 0; i < n; i++) {
      t += Math.floor(rand() * 90_000) + 1;
      const type = weighted(TYPES);
      const micros = Math.floor(rand() * 1000);
      yield {
        id: randomUUID(),
        session_id: sessionId,
        category: type.category,
        name: type.name,
        data: JSON.stringify(payload(type)),
        timestamp: rfc3339(t, micros),
        received_at: rfc3339(t + 50 + Math.floor(rand() * 2000), Math.floor(rand() * 1000)),
        client_id: rand() < 0.5 ? client : second,
        sortKey: t * 1000 + micros,
      };
    }
  }
}

const INSERT_EVENTS = `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[],
    $7::timestamptz[], $8::text[])`;

async function insertBatch(db, rows) {
  // Arrival roughly follows occurrence, as it would in production.
  rows.sort((a, b) => a.sortKey - b.sortKey);
  const cols = ['id', 'session_id', 'category', 'name', 'data', 'timestamp', 'received_at', 'client_id'];
  await db.query(
    INSERT_EVENTS,
    cols.map((c) => rows.map((r) => r[c])),
  );
}

async function seedRejected(db) {
  const rows = [];
  for (let i = 0; i < REJECTED; i++) {
    const ms = START_MS + Math.floor(rand() * SPAN_MS);
    const pickReasons = weighted(REASONS).reasons;
    const type = pickReasons.includes('unknown_event_type')
      ? { category: 'legacy', name: pick(['click v1', 'view v0']) }
      : weighted(TYPES);
    const id = randomUUID();
    const received = rfc3339(ms, Math.floor(rand() * 1000));
    const timestamp = pickReasons.includes('timestamp_in_future')
      ? rfc3339(ms + 3_600_000 + Math.floor(rand() * 86_400_000), 0)
      : rfc3339(ms - Math.floor(rand() * 5000), Math.floor(rand() * 1000));
    const event = {
      id,
      session_id: randomUUID(),
      category: type.category,
      name: type.name,
      data: { host: pick(HOSTS), path: rand() < 0.5 ? 42 : null },
      timestamp,
      received_at: received,
      client_id: weighted(CLIENTS).id,
    };
    const errors = pickReasons.map((reason) => ({
      reason,
      path:
        reason === 'payload_invalid' ? '/data/path' : reason === 'timestamp_in_future' ? '/timestamp' : '',
      message: reason === 'payload_invalid' ? 'must be string' : reason.replace(/_/g, ' '),
    }));
    rows.push([
      id,
      event.session_id,
      event.category,
      event.name,
      JSON.stringify(event),
      timestamp,
      received,
      event.client_id,
      `{${pickReasons.join(',')}}`,
      JSON.stringify(errors),
      rfc3339(ms + 20 + Math.floor(rand() * 500), 0),
    ]);
  }
  rows.sort((a, b) => (a[10] < b[10] ? -1 : 1));
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    await db.query(
      `INSERT INTO rejected_events (event_id, session_id, category, name, raw, timestamp, received_at, client_id,
         reasons, errors, rejected_at)
       SELECT id, session_id, category, name, raw, timestamp, received_at, client_id, reasons::text[], errors, rejected_at
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
         $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[])
         AS u(id, session_id, category, name, raw, timestamp, received_at, client_id, reasons, errors, rejected_at)`,
      chunk[0].map((_c, col) => chunk.map((r) => r[col])),
    );
  }
}

/**
 * Schema versions for GET /v1/schemas/{category}/{name}: 200 types (the 7 seeded ones among
 * them) of 5 versions each, so the table spans many pages as a long-lived deployment's would.
 * Replaces the seed's own earlier rows (created_by 'seed') only; runs on every call (cheap).
 */
async function seedSchemas(db) {
  await db.query(`DELETE FROM event_schemas WHERE created_by = 'seed'`);
  const types = TYPES.items.map((t) => [t.category, t.name]);
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

async function main() {
  let migrator;
  try {
    migrator = require(join(__dirname, '..', 'dist-analytics', 'prisma', 'migrator.js'));
  } catch {
    console.error('Build first: npx tsc -p tsconfig.build.json --outDir dist-analytics');
    process.exit(1);
  }
  const migrated = await migrator.migrate(DATABASE_URL);
  if (migrated.applied.length) console.log(`applied migrations: ${migrated.applied.join(', ')}`);

  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    await seedSchemas(db);
    const existing = Number((await db.query('SELECT count(*) AS n FROM events')).rows[0].n);
    if (existing > 0 && !RESET) {
      console.log(`events already holds ${existing} rows; pass --reset to reseed`);
      return;
    }
    if (RESET)
      await db.query(
        'TRUNCATE events, sessions, event_counts, event_counts_hourly, event_counts_daily, rejected_events RESTART IDENTITY',
      );

    const t0 = Date.now();
    let batch = [];
    let done = 0;
    for (const e of generateEvents()) {
      batch.push(e);
      if (batch.length === BATCH) {
        await insertBatch(db, batch);
        done += batch.length;
        batch = [];
        if (done % 100_000 === 0) console.log(`events: ${done} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }
    if (batch.length) await insertBatch(db, batch);

    console.log('sessions and event_counts (INSERT … SELECT … GROUP BY)…');
    await db.query(`INSERT INTO sessions (session_id, first_event_at, last_event_at, event_count, client_ids)
      SELECT session_id, min(timestamp), max(timestamp), count(*), array_agg(DISTINCT client_id ORDER BY client_id)
      FROM events GROUP BY session_id`);
    await db.query(`INSERT INTO event_counts (bucket, category, name, client_id, count)
      SELECT date_trunc('minute', timestamp), category, name, client_id, count(*) FROM events GROUP BY 1, 2, 3, 4`);
    console.log(`quarantine: ${REJECTED} rejected events…`);
    await seedRejected(db);
    console.log('VACUUM ANALYZE…');
    for (const table of [
      'events',
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
      pg_size_pretty(pg_total_relation_size('events')) AS events_size`);
    console.log(`seeded in ${((Date.now() - t0) / 1000).toFixed(0)} s:`, counts.rows[0]);
  } finally {
    await db.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
