// The full-size month bench through the running service, one stage per call (each writes
// bench/results/month-<stage>.json; report.ts turns them into bench/results/month.md):
//   archive  the real pass moves one full hot day (prepare.ts load-day) while 1,000 events/s arrive
//   archive-split  the same with ROLE=api + ROLE=worker, the pass from the worker's timer
//   ingest   bench.ts's batch ceiling on an empty database and on the month's, alternating
//   reads    the queries over HTTP (GET /v1/events, sessions, stats, export, funnels)
//   sizes    archive and hot tier bytes/event
// Order of a full run: month.ts --seed-only --derive, prepare.ts register, prepare.ts load-day,
// run.ts archive, run.ts sizes, run.ts ingest, run.ts reads, report.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { archiveFiles } from '../../src/archive/archive-layout';
import { sqlLiteral } from '../../src/archive/archive-files.repository';
import { DuckDbService } from '../../src/archive/duckdb.service';
import { loadConfig } from '../../src/config/config';
import { OUT_DIR } from '../config';
import { cleanup, killChildrenOnExit } from '../lib/service';
import { archiveUnderLoad } from './archive-load';
import { archiveSplit } from './archive-split';
import { httpReads, type ReadKey } from './http-reads';
import { ingestComparison } from './ingest';
import { hotDays, hotSessions, ledgerSize, partitionSize, registeredDays } from './pg.repository';
import { type MonthStores, startMonthService } from './service';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: '/work/month-data/archive' },
    db: { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/the_eye_month' },
    'empty-db': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/the_eye_month_empty' },
    'admin-db': { type: 'string', default: 'postgresql://postgres@127.0.0.1:5432/postgres' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/12' },
    logs: { type: 'string', default: '/work/month-data/logs' },
    day: { type: 'string', default: '2026-12-05' },
    before: { type: 'string', default: '2026-12-06' },
    rate: { type: 'string', default: '1000' },
    'start-after': { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    'first-day': { type: 'string', default: '2026-11-07' },
    'last-day': { type: 'string', default: '2026-12-06' },
    requests: { type: 'string', default: '100' },
    'funnel-requests': { type: 'string', default: '5' },
    'slow-requests': { type: 'string', default: '20' },
    /** Reads to run (http-reads.ts READ_KEYS, comma-separated); the others keep their last results. */
    only: { type: 'string' },
    /** Extra KEY=VALUE,… for the service (e.g. DUCKDB_MEMORY_LIMIT=1GB). */
    'service-env': { type: 'string', default: '' },
    /** Node flags after npm start's (e.g. --max-old-space-size=1024, which then wins). */
    'node-flags': { type: 'string', default: '' },
    /** Added to the results' keys, e.g. "archived days only" for a run with another --last-day. */
    tag: { type: 'string', default: '' },
  },
});
const log = (s: string): boolean =>
  process.stdout.write(`[month ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
killChildrenOnExit(log);
const serviceEnv = Object.fromEntries(
  args['service-env']
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
) as Record<string, string>;
const stores = (databaseUrl: string, name: string): MonthStores => ({
  databaseUrl,
  redisUrl: args.redis,
  archiveDir: resolve(args.dir),
  logPath: join(args.logs, `service-${name}.log`),
});
const save = (stage: string, data: unknown): void => {
  const file = join(OUT_DIR, `month-${stage}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), ...(data as object) }, null, 2) + '\n');
  log(`wrote ${file}`);
};

function monthDays(): string[] {
  const days: string[] = [];
  for (
    let t = Date.parse(`${args['first-day']}T00:00:00Z`);
    t <= Date.parse(`${args['last-day']}T00:00:00Z`);
    t += 86_400_000
  )
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Sessions spread over every day: archived days from their files, hot days from their partitions. */
async function sampleSessions(pg: Client, days: string[], n: number): Promise<string[]> {
  const per = Math.max(1, Math.ceil(n / days.length));
  const config = loadConfig({ ARCHIVE_DIR: resolve(args.dir), DUCKDB_MEMORY_LIMIT: '512MB' });
  const duckdb = new DuckDbService(config);
  const hot = new Set(await hotDays(pg));
  const out: string[] = [];
  try {
    for (const day of days) {
      if (hot.has(day)) {
        out.push(...(await hotSessions(pg, day, per)));
        continue;
      }
      const files = await archiveFiles(config.archiveDir, day, day);
      if (files.length === 0) continue;
      const rows = await duckdb.use(async (c) =>
        (
          await c.runAndReadAll(
            `SELECT DISTINCT session_id FROM read_parquet(${sqlLiteral(files[0])})
              WHERE hash(session_id) % 1000 = 7 LIMIT ${per}`,
          )
        ).getRowObjects(),
      );
      out.push(...rows.map((r) => String(r.session_id)));
    }
  } finally {
    await duckdb.onApplicationShutdown();
  }
  return out;
}

async function sizes(pg: Client): Promise<void> {
  const archive = await registeredDays(pg);
  const events = archive.reduce((a, d) => a + d.events, 0);
  const bytes = archive.reduce((a, d) => a + d.bytes, 0);
  const hot: { day: string; rows: number; bytes: number }[] = [];
  for (const day of await hotDays(pg)) {
    const s = await partitionSize(pg, day);
    if (s && s.rows > 0) hot.push({ day, ...s });
  }
  const ledger = await ledgerSize(pg);
  save('sizes', {
    archive: { days: archive.length, events, bytes, bytes_per_event: bytes / events, per_day: archive },
    hot,
    ledger: { ...ledger, bytes_per_key: ledger.rows ? ledger.bytes / ledger.rows : null },
  });
}

async function main(): Promise<void> {
  const stage = positionals[0];
  const pg = new Client({ connectionString: args.db });
  await pg.connect();
  try {
    if (stage === 'sizes') return await sizes(pg);
    if (stage === 'archive') {
      const m = await startMonthService(stores(args.db, 'archive'), serviceEnv);
      try {
        const r = await archiveUnderLoad(
          m,
          {
            day: args.day,
            before: args.before,
            rate: Number(args.rate),
            startAfterS: Number(args['start-after']),
            traceFile: join(args.logs, 'trace-archive.csv'),
          },
          log,
        );
        save('archive', r);
      } finally {
        await m.stop();
      }
      return;
    }
    if (stage === 'archive-split') {
      const r = await archiveSplit(
        stores(args.db, 'split-api'),
        {
          day: args.day,
          rate: Number(args.rate),
          intervalS: Number(args['start-after']),
          traceFile: join(args.logs, 'trace-archive-split.csv'),
          workerLog: join(args.logs, 'service-split-worker.log'),
        },
        log,
      );
      save('archive-split', r);
      return;
    }
    if (stage === 'ingest') {
      const r = await ingestComparison(
        stores(args.db, 'ingest-month'),
        stores(args['empty-db'], 'ingest-empty'),
        args['admin-db'],
        Number(args.rounds),
        log,
      );
      save('ingest', r);
      return;
    }
    if (stage === 'reads') {
      const days = monthDays();
      const sessions = await sampleSessions(pg, days, Number(args.requests));
      log(`${sessions.length} sessions sampled over ${days.length} days`);
      const m = await startMonthService(
        stores(args.db, 'reads'),
        serviceEnv,
        true,
        args['node-flags'].split(/\s+/).filter(Boolean),
      );
      try {
        const hot = await hotDays(pg);
        const file = join(OUT_DIR, 'month-reads.json');
        // A partial run (--only) adds to the results already there.
        const results: Record<string, unknown> =
          args.only && existsSync(file)
            ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
            : {};
        Object.assign(results, { days: days.length, first: days[0], last: days[days.length - 1] });
        await httpReads(
          {
            base: m.base,
            token: m.adminToken,
            days,
            sessions,
            requests: Number(args.requests),
            slowRequests: Number(args['slow-requests']),
            funnelRequests: Number(args['funnel-requests']),
            exportDays: [days[0], ...days.filter((d) => hot.includes(d)).slice(0, 1)],
            only: args.only?.split(',') as ReadKey[] | undefined,
          },
          log,
          (key, value) => {
            // Results with another service environment are kept beside the default ones.
            const variant = [args.tag, args['service-env'], args['node-flags']].filter(Boolean).join(' ');
            results[variant ? `${key} (${variant})` : key] = value;
            save('reads', results);
          },
        );
      } finally {
        await m.stop();
      }
      return;
    }
    throw new Error('usage: run.ts archive|archive-split|ingest|reads|sizes [options]');
  } finally {
    await pg.end();
  }
}

main()
  .catch((err: unknown) => {
    process.exitCode = 1;
    console.error(err);
  })
  .finally(() => cleanup());
