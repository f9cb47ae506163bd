#!/usr/bin/env node
// Prints EXPLAIN (ANALYZE, BUFFERS) for every analytics query path, on the seeded database, and
// fails if any plan reads the events table with a sequential scan. The SQL is not copied here: it
// is captured from the compiled AnalyticsRepository (dist-analytics), so the plans are those of
// the code that serves the API.
//
//   npx tsc -p tsconfig.build.json --outDir dist-analytics
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/the_eye_seed node scripts/explain.js [--summary]
'use strict';
const { join } = require('node:path');
const { Client } = require('pg');

const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_seed';
const SUMMARY = process.argv.includes('--summary');

function loadRepository() {
  try {
    return require(join(__dirname, '..', 'dist-analytics', 'analytics', 'analytics.repository.js'))
      .AnalyticsRepository;
  } catch {
    console.error('Build first: npx tsc -p tsconfig.build.json --outDir dist-analytics');
    process.exit(1);
  }
}

/** A repository whose pool records the statements instead of running them. */
function capturingRepository(AnalyticsRepository) {
  const captured = [];
  const pool = {
    query(text, values) {
      captured.push({ text, values });
      return Promise.resolve({ rows: [] });
    },
  };
  return { repo: new AnalyticsRepository(pool), captured };
}

async function samples(db) {
  const one = async (sql) => (await db.query(sql)).rows[0];
  const session = await one(`SELECT session_id FROM sessions ORDER BY session_id OFFSET 25000 LIMIT 1`);
  const deep =
    await one(`SELECT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, seq::text
    FROM events ORDER BY timestamp, seq OFFSET 900000 LIMIT 1`);
  const deepType =
    await one(`SELECT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, seq::text
    FROM events WHERE category = 'form interaction' AND name = 'submit' ORDER BY timestamp, seq OFFSET 100000 LIMIT 1`);
  const firstSession =
    await one(`SELECT to_char(first_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts,
    session_id FROM sessions ORDER BY first_event_at, session_id OFFSET 40000 LIMIT 1`);
  const rejected =
    await one(`SELECT to_char(rejected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, seq::text
    FROM rejected_events ORDER BY rejected_at DESC, seq DESC OFFSET 5000 LIMIT 1`);
  return { session: session.session_id, deep, deepType, firstSession, rejected };
}

/** Every query path the API serves: [label, (repo) => call]. */
function paths(s) {
  const day = { from: '2026-10-15T00:00:00.000000Z', to: '2026-10-15T23:59:59.999999Z' };
  const month = { from: '2026-10-01T00:00:00.000000Z', to: '2026-10-31T23:59:59.999999Z' };
  return [
    ['session timeline', (r) => r.events({ sessionId: s.session }, 'asc', null, 101)],
    ['events: no filter (first page)', (r) => r.events({}, 'asc', null, 101)],
    ['events: no filter, desc', (r) => r.events({}, 'desc', null, 101)],
    ['events: time range (1 day)', (r) => r.events(day, 'asc', null, 101)],
    ['events: category (common)', (r) => r.events({ category: 'page interaction' }, 'asc', null, 101)],
    ['events: category (rare)', (r) => r.events({ category: 'experiment' }, 'asc', null, 101)],
    [
      'events: category+name',
      (r) => r.events({ category: 'form interaction', name: 'submit' }, 'asc', null, 101),
    ],
    [
      'events: category+name + time range, desc',
      (r) => r.events({ category: 'form interaction', name: 'submit', ...day }, 'desc', null, 101),
    ],
    ['events: name only', (r) => r.events({ name: 'video play' }, 'asc', null, 101)],
    ['events: name only (rare)', (r) => r.events({ name: 'exposure' }, 'asc', null, 101)],
    ['events: client_id', (r) => r.events({ clientId: 'partner-widget' }, 'asc', null, 101)],
    [
      'events: client_id (rare) + time range',
      (r) => r.events({ clientId: 'legacy-importer', ...day }, 'asc', null, 101),
    ],
    [
      'events: category + client_id',
      (r) => r.events({ category: 'search', clientId: 'legacy-importer' }, 'asc', null, 101),
    ],
    [
      'events: session + category',
      (r) => r.events({ sessionId: s.session, category: 'page interaction' }, 'asc', null, 101),
    ],
    ['events: deep cursor (900k rows in)', (r) => r.events({}, 'asc', [s.deep.ts, s.deep.seq], 101)],
    [
      'events: deep cursor, category+name',
      (r) =>
        r.events(
          { category: 'form interaction', name: 'submit' },
          'asc',
          [s.deepType.ts, s.deepType.seq],
          101,
        ),
    ],
    ['events: limit 1000, time range', (r) => r.events(month, 'asc', null, 1001)],
    ['sessions: no filter', (r) => r.sessions({}, 'asc', null, 101)],
    ['sessions: from/to (1 day), desc', (r) => r.sessions(day, 'desc', null, 101)],
    [
      'sessions: deep cursor',
      (r) => r.sessions({}, 'asc', [s.firstSession.ts, s.firstSession.session_id], 101),
    ],
    ['stats: minute by name (30 days)', (r) => r.stats(month, 'minute', 'name', null, 101)],
    ['stats: hour by name (30 days)', (r) => r.stats(month, 'hour', 'name', null, 101)],
    ['stats: day by category (30 days)', (r) => r.stats(month, 'day', 'category', null, 101)],
    ['stats: day by name (no range)', (r) => r.stats({}, 'day', 'name', null, 101)],
    ['stats: hour by name, 1 day', (r) => r.stats(day, 'hour', 'name', null, 101)],
    ['rejected: newest first', (r) => r.rejected({}, 'desc', null, 101)],
    ['rejected: reason', (r) => r.rejected({ reason: 'unknown_event_type' }, 'desc', null, 101)],
    ['rejected: client_id', (r) => r.rejected({ clientId: 'partner-widget' }, 'desc', null, 101)],
    [
      'rejected: category+name + time range',
      (r) => r.rejected({ category: 'form interaction', name: 'submit', ...day }, 'desc', null, 101),
    ],
    [
      'rejected: rare reason + client',
      (r) => r.rejected({ reason: 'payload_unstorable', clientId: 'legacy-importer' }, 'desc', null, 101),
    ],
    ['rejected: deep cursor', (r) => r.rejected({}, 'desc', [s.rejected.ts, s.rejected.seq], 101)],
  ];
}

async function main() {
  const AnalyticsRepository = loadRepository();
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const failures = [];
  const rows = [];
  try {
    const s = await samples(db);
    for (const [label, call] of paths(s)) {
      const { repo, captured } = capturingRepository(AnalyticsRepository);
      await call(repo);
      const { text, values } = captured[captured.length - 1];
      await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values); // warm the cache once
      const plan = (await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      const seqScan = /Seq Scan on events\b/.test(plan);
      const execMs = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
      const indexes = [
        ...new Set(
          [
            ...plan.matchAll(
              /(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)/g,
            ),
          ].map((m) => m[1]),
        ),
      ];
      const scans = [...new Set([...plan.matchAll(/Seq Scan on (\w+)/g)].map((m) => `seq:${m[1]}`))];
      rows.push({ path: label, ms: execMs, uses: [...indexes, ...scans].join(', ') });
      if (seqScan) failures.push(label);
      if (!SUMMARY) {
        console.log(`\n### ${label}\n`);
        console.log('```sql');
        console.log(text.replace(/\s+/g, ' ').trim());
        console.log(`-- params: ${JSON.stringify(values)}`);
        console.log('```\n```');
        console.log(plan);
        console.log('```');
      }
    }
  } finally {
    await db.end();
  }
  console.log('\n| query path | execution (ms) | plan uses |\n|---|---:|---|');
  for (const r of rows) console.log(`| ${r.path} | ${r.ms.toFixed(2)} | ${r.uses} |`);
  if (failures.length) {
    console.error(`\nSeq Scan on events in: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log('\nOK: no sequential scan of events in any query path');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
