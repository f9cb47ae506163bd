// Prints EXPLAIN (ANALYZE, BUFFERS) for every analytics query path, on the seeded database, and
// fails if any plan reads the events table with a sequential scan. The SQL is not copied here: it
// is captured from the service's own repositories (src/, through tsx), so the plans are those of
// the code that serves the API.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/the_eye_seed npx tsx scripts/explain.ts [--summary]
import type { Pool } from 'pg';
import { Client } from 'pg';
import { AnalyticsRepository } from '../src/analytics/analytics.repository';
import { FUNNEL_SETTINGS, FunnelsRepository } from '../src/analytics/funnels.repository';
import { StatsRepository } from '../src/analytics/stats.repository';
import { SchemasRepository } from '../src/schemas/schemas.repository';
import { type ExplainSamples, type Repositories, paths } from './explain-paths';

const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_seed';
const SUMMARY = process.argv.includes('--summary');

/** Repositories whose pool records the statements instead of running them. */
interface Captured {
  text: string;
  values: unknown[];
}

function capturingRepositories(): { repos: Repositories; captured: Captured[] } {
  const captured: Captured[] = [];
  const query = (text: string, values: unknown[]): Promise<{ rows: never[] }> => {
    // The funnel's transaction control (BEGIN … SET LOCAL, COMMIT) is not a query path.
    if (!/^(BEGIN|COMMIT|ROLLBACK)\b/.test(text)) captured.push({ text, values });
    return Promise.resolve({ rows: [] });
  };
  const pool = {
    query,
    connect: () => Promise.resolve({ query, release: () => undefined }),
  } as unknown as Pool;
  return {
    repos: {
      analytics: new AnalyticsRepository(pool),
      stats: new StatsRepository(pool),
      funnels: new FunnelsRepository(pool),
      schemas: new SchemasRepository(pool),
    },
    captured,
  };
}

async function samples(db: Client): Promise<ExplainSamples> {
  const one = async <T>(sql: string): Promise<T> => (await db.query(sql)).rows[0] as T;
  const session = await one<{ session_id: string }>(
    `SELECT session_id FROM sessions ORDER BY session_id OFFSET 25000 LIMIT 1`,
  );
  const deep = await one<{ ts: string; seq: string }>(
    `SELECT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, seq::text
    FROM events ORDER BY timestamp, seq OFFSET 900000 LIMIT 1`,
  );
  const deepType = await one<{ ts: string; seq: string }>(
    `SELECT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, seq::text
    FROM events WHERE category = 'form interaction' AND name = 'submit' ORDER BY timestamp, seq OFFSET 100000 LIMIT 1`,
  );
  const firstSession = await one<{ ts: string; session_id: string }>(
    `SELECT to_char(first_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts,
    session_id FROM sessions ORDER BY first_event_at, session_id OFFSET 40000 LIMIT 1`,
  );
  const rejected = await one<{ ts: string; seq: string }>(
    `SELECT to_char(rejected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts, seq::text
    FROM rejected_events ORDER BY rejected_at DESC, seq DESC OFFSET 5000 LIMIT 1`,
  );
  const types = (
    await db.query<{ category: string; name: string }>(
      `SELECT DISTINCT category, name FROM event_counts_daily ORDER BY 1, 2`,
    )
  ).rows;
  const clients = (
    await db.query<{ client_id: string }>(`SELECT DISTINCT client_id FROM event_counts_daily ORDER BY 1`)
  ).rows;
  return {
    session: session.session_id,
    deep,
    deepType,
    firstSession,
    rejected,
    typeGroups: types.map((t): [string, string] => [t.category, t.name]),
    clientGroups: clients.map((c): [string, string] => [c.client_id, '']),
  };
}

async function main(): Promise<void> {
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  await db.query('SET jit = off'); // as every connection of the analytics pool (analytics-pool.ts)
  const failures: string[] = [];
  const rows: { path: string; ms: number; uses: string }[] = [];
  try {
    const s = await samples(db);
    for (const [label, call, opts = {}] of paths(s)) {
      const { repos, captured } = capturingRepositories();
      await call(repos);
      const { text, values } = captured[captured.length - 1];
      // Funnels run in a transaction with these planner settings (funnels.repository.ts).
      const settings = opts.funnel ? Object.entries(FUNNEL_SETTINGS) : [];
      for (const [k, v] of settings) await db.query(`SET ${k} = '${v}'`);
      await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values); // warm the cache once
      const plan = (
        await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)
      ).rows
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

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
