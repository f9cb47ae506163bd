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

function loadRepositories() {
  const dist = (file) => require(join(__dirname, '..', 'dist-analytics', 'analytics', file));
  try {
    return {
      AnalyticsRepository: dist('analytics.repository.js').AnalyticsRepository,
      StatsRepository: dist('stats.repository.js').StatsRepository,
      FunnelsRepository: dist('funnels.repository.js').FunnelsRepository,
      FUNNEL_SETTINGS: dist('funnels.repository.js').FUNNEL_SETTINGS,
      SchemasRepository: require(join(__dirname, '..', 'dist-analytics', 'schemas', 'schemas.repository.js'))
        .SchemasRepository,
    };
  } catch {
    console.error('Build first: npx tsc -p tsconfig.build.json --outDir dist-analytics');
    process.exit(1);
  }
}

/** Repositories whose pool records the statements instead of running them. */
function capturingRepositories(classes) {
  const captured = [];
  const query = (text, values) => {
    // The funnel's transaction control (BEGIN … SET LOCAL, COMMIT) is not a query path.
    if (!/^(BEGIN|COMMIT|ROLLBACK)\b/.test(text)) captured.push({ text, values });
    return Promise.resolve({ rows: [] });
  };
  const pool = { query, connect: () => Promise.resolve({ query, release: () => undefined }) };
  return {
    repos: {
      analytics: new classes.AnalyticsRepository(pool),
      stats: new classes.StatsRepository(pool),
      funnels: new classes.FunnelsRepository(pool),
      schemas: new classes.SchemasRepository(pool),
    },
    captured,
  };
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
  const types = (await db.query(`SELECT DISTINCT category, name FROM event_counts_daily ORDER BY 1, 2`)).rows;
  const clients = (await db.query(`SELECT DISTINCT client_id FROM event_counts_daily ORDER BY 1`)).rows;
  return {
    session: session.session_id,
    deep,
    deepType,
    firstSession,
    rejected,
    typeGroups: types.map((t) => [t.category, t.name]),
    clientGroups: clients.map((c) => [c.client_id, '']),
  };
}

/** Every query path the API serves: [label, (repo) => call]. */
function paths(s) {
  const day = {
    from: '2026-10-15T00:00:00.000000Z',
    to: '2026-10-15T23:59:59.999999Z',
  };
  const month = {
    from: '2026-10-01T00:00:00.000000Z',
    to: '2026-10-31T23:59:59.999999Z',
  };
  return [
    ['session timeline', (r) => r.analytics.events({ sessionId: s.session }, 'asc', null, 101)],
    ['events: no filter (first page)', (r) => r.analytics.events({}, 'asc', null, 101)],
    ['events: no filter, desc', (r) => r.analytics.events({}, 'desc', null, 101)],
    ['events: time range (1 day)', (r) => r.analytics.events(day, 'asc', null, 101)],
    [
      'events: category (common)',
      (r) => r.analytics.events({ category: 'page interaction' }, 'asc', null, 101),
    ],
    ['events: category (rare)', (r) => r.analytics.events({ category: 'experiment' }, 'asc', null, 101)],
    [
      'events: category+name',
      (r) => r.analytics.events({ category: 'form interaction', name: 'submit' }, 'asc', null, 101),
    ],
    [
      'events: category+name + time range, desc',
      (r) => r.analytics.events({ category: 'form interaction', name: 'submit', ...day }, 'desc', null, 101),
    ],
    ['events: name only', (r) => r.analytics.events({ name: 'video play' }, 'asc', null, 101)],
    ['events: name only (rare)', (r) => r.analytics.events({ name: 'exposure' }, 'asc', null, 101)],
    ['events: client_id', (r) => r.analytics.events({ clientId: 'partner-widget' }, 'asc', null, 101)],
    [
      'events: client_id (rare) + time range',
      (r) => r.analytics.events({ clientId: 'legacy-importer', ...day }, 'asc', null, 101),
    ],
    [
      'events: category + client_id',
      (r) => r.analytics.events({ category: 'search', clientId: 'legacy-importer' }, 'asc', null, 101),
    ],
    [
      'events: session + category',
      (r) => r.analytics.events({ sessionId: s.session, category: 'page interaction' }, 'asc', null, 101),
    ],
    [
      'events: deep cursor (900k rows in)',
      (r) => r.analytics.events({}, 'asc', [s.deep.ts, s.deep.seq], 101),
    ],
    [
      'events: deep cursor, category+name',
      (r) =>
        r.analytics.events(
          { category: 'form interaction', name: 'submit' },
          'asc',
          [s.deepType.ts, s.deepType.seq],
          101,
        ),
    ],
    ['events: limit 1000, time range', (r) => r.analytics.events(month, 'asc', null, 1001)],
    ['sessions: no filter', (r) => r.analytics.sessions({}, 'asc', null, 101)],
    ['sessions: from/to (1 day), desc', (r) => r.analytics.sessions(day, 'desc', null, 101)],
    [
      'sessions: deep cursor',
      (r) => r.analytics.sessions({}, 'asc', [s.firstSession.ts, s.firstSession.session_id], 101),
    ],
    ...statsPaths(s, day, month),
    ['rejected: newest first', (r) => r.analytics.rejected({}, 'desc', null, 101)],
    ['rejected: reason', (r) => r.analytics.rejected({ reason: 'unknown_event_type' }, 'desc', null, 101)],
    ['rejected: client_id', (r) => r.analytics.rejected({ clientId: 'partner-widget' }, 'desc', null, 101)],
    [
      'rejected: category+name + time range',
      (r) =>
        r.analytics.rejected({ category: 'form interaction', name: 'submit', ...day }, 'desc', null, 101),
    ],
    [
      'rejected: rare reason + client',
      (r) =>
        r.analytics.rejected(
          { reason: 'payload_unstorable', clientId: 'legacy-importer' },
          'desc',
          null,
          101,
        ),
    ],
    ['rejected: deep cursor', (r) => r.analytics.rejected({}, 'desc', [s.rejected.ts, s.rejected.seq], 101)],
    ['rejected summary: 30 days', (r) => r.analytics.rejectedSummary(month, null, 101)],
    [
      'rejected summary: client, 1 day',
      (r) => r.analytics.rejectedSummary({ ...day, clientId: 'partner-widget' }, null, 101),
    ],
    ...funnelPaths(s, day, month),
    ['schema of one type (newest version)', (r) => r.schemas.inForceOf('page interaction', 'pageview')],
  ];
}

/** Stats pages as the service asks them (groups listed first, then one page of buckets × groups). */
function statsPaths(s, day, month) {
  const page = (over) => (r) =>
    r.stats.page({
      tz: 'UTC',
      filter: {},
      groups: [],
      after: null,
      take: 101,
      ...over,
    });
  return [
    [
      'stats groups: types, 30 days (daily rollup)',
      (r) => r.stats.groups('name', 'event_counts_daily', {}, month.from, month.to, 1000),
    ],
    ['stats: minute total, 1 day', page({ interval: 'minute', source: 'event_counts', ...day })],
    [
      'stats: hour by type, 30 days',
      page({
        interval: 'hour',
        groupBy: 'name',
        source: 'event_counts_hourly',
        ...month,
        groups: s.typeGroups,
      }),
    ],
    [
      'stats: day by client, 30 days',
      page({
        interval: 'day',
        groupBy: 'client_id',
        source: 'event_counts_daily',
        ...month,
        groups: s.clientGroups,
      }),
    ],
    [
      'stats: day by type, Europe/Paris (hourly rollup)',
      page({
        interval: 'day',
        tz: 'Europe/Paris',
        groupBy: 'name',
        source: 'event_counts_hourly',
        ...month,
        groups: s.typeGroups,
      }),
    ],
    [
      'stats: week, category filter',
      page({
        interval: 'week',
        source: 'event_counts_daily',
        filter: { category: 'form interaction' },
        ...month,
      }),
    ],
    [
      'stats: month, client filter',
      page({
        interval: 'month',
        source: 'event_counts_daily',
        filter: { clientId: 'legacy-importer' },
        from: '2026-01-01T00:00:00.000000Z',
        to: '2026-12-31T23:59:59.999999Z',
      }),
    ],
    [
      'stats: day, name filter, 30 days',
      page({ interval: 'day', source: 'event_counts_daily', filter: { name: 'submit' }, ...month }),
    ],
    [
      'stats: hour by client, category+name filter, 1 day',
      page({
        interval: 'hour',
        groupBy: 'client_id',
        source: 'event_counts_hourly',
        filter: { category: 'form interaction', name: 'submit' },
        ...day,
        groups: s.clientGroups,
      }),
    ],
    [
      'stats: week, Europe/Paris, client filter (hourly rollup)',
      page({
        interval: 'week',
        tz: 'Europe/Paris',
        source: 'event_counts_hourly',
        filter: { clientId: 'mobile-ios' },
        from: '2026-09-30T22:00:00.000000Z',
        to: '2026-10-31T22:59:59.999999Z',
      }),
    ],
    [
      'stats: month by type, America/New_York, 1 year (hourly rollup)',
      page({
        interval: 'month',
        tz: 'America/New_York',
        groupBy: 'name',
        source: 'event_counts_hourly',
        from: '2026-01-01T05:00:00.000000Z',
        to: '2027-01-01T04:59:59.999999Z',
        groups: s.typeGroups,
      }),
    ],
    [
      'stats: hour, session filter',
      page({
        interval: 'hour',
        source: 'session',
        filter: { sessionId: s.session },
        ...month,
      }),
    ],
  ];
}

function funnelPaths(s, day, month) {
  const steps = [
    { category: 'page interaction', name: 'pageview' },
    { category: 'page interaction', name: 'cta click' },
    { category: 'form interaction', name: 'submit' },
  ];
  const week = { from: '2026-10-12T00:00:00.000000Z', to: '2026-10-18T23:59:59.999999Z' };
  const rare = [
    { category: 'experiment', name: 'exposure' },
    { category: 'form interaction', name: 'submit' },
  ];
  const funnel = (q) => (r) => r.funnels.sessionsPerStep({ steps, withinMs: 1_800_000, ...q });
  return [
    ['funnel: 3 steps, 30m, 1 day', funnel(day), { funnel: true }],
    [
      'funnel: 3 steps, 30m, 1 day, client_id',
      funnel({ ...day, clientId: 'partner-widget' }),
      { funnel: true },
    ],
    [
      'funnel: rare step 1 (exposure → submit), 1h, 30 days',
      funnel({ ...month, steps: rare, withinMs: 3_600_000 }),
      { funnel: true },
    ],
    ['funnel: 3 steps, 30m, 7 days', funnel(week), { funnel: true }],
    ['funnel: 3 steps, 30m, 30 days (step 1 = 55 % of events)', funnel(month), { funnel: true }],
  ];
}

async function main() {
  const classes = loadRepositories();
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  await db.query('SET jit = off'); // as every connection of the analytics pool (analytics-pool.ts)
  const failures = [];
  const rows = [];
  try {
    const s = await samples(db);
    for (const [label, call, opts = {}] of paths(s)) {
      const { repos, captured } = capturingRepositories(classes);
      await call(repos);
      const { text, values } = captured[captured.length - 1];
      // Funnels run in a transaction with these planner settings (funnels.repository.ts).
      const settings = opts.funnel ? Object.entries(classes.FUNNEL_SETTINGS) : [];
      for (const [k, v] of settings) await db.query(`SET ${k} = '${v}'`);
      await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values); // warm the cache once
      const plan = (await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      for (const [k] of settings) await db.query(`RESET ${k}`);
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
      rows.push({
        path: label,
        ms: execMs,
        uses: [...indexes, ...scans].join(', '),
      });
      if (seqScan && !opts.allowSeqScan) failures.push(label);
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
