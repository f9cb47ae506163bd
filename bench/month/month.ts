// npm run bench:month: a month of the brief's traffic written straight into the archive's format
// (seed.repository.ts), then the read paths' queries measured on it through the ArchiveReader
// (src/archive). Writes bench/results/month-reader.md. Defaults are the issue's full size (30 days ×
// 8.64 M events); `-- --days 3 --events-per-day 200000` proves it works in a minute.
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ArchiveReader } from '../../src/archive/archive-reader.repository';
import { archiveFiles, archiveFilesByDay, dayDir } from '../../src/archive/archive-layout';
import { sqlLiteral } from '../../src/archive/archive-files.repository';
import { DuckDbService } from '../../src/archive/duckdb.service';
import { loadConfig } from '../../src/config/config';
import { deriveDay, seedDay } from './seed.repository';

const { values: args } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    'events-per-day': { type: 'string', default: '8640000' },
    requests: { type: 'string', default: '100' },
    dir: { type: 'string', default: 'data/bench-month' },
    'memory-limit': { type: 'string', default: '256MB' },
    threads: { type: 'string', default: '2' },
    /** Keep the days already seeded with the same size (a second run measures only). */
    reuse: { type: 'boolean', default: false },
    /** Days after the first are the first shifted in time (deriveDay): no sort, ~5x faster. */
    derive: { type: 'boolean', default: false },
    /** Measure the days already under --dir (seeded or archived by the service), seed nothing. */
    'measure-only': { type: 'boolean', default: false },
    /** bench/results/month.md is the full run through the service (run.ts, report.ts). */
    out: { type: 'string', default: 'bench/results/month-reader.md' },
    'first-day': { type: 'string', default: '2026-01-01' },
    /** Seed (or keep) the days and stop: the full-size run measures through the service after. */
    'seed-only': { type: 'boolean', default: false },
  },
});
const DAYS = Number(args.days);
const PER_DAY = Number(args['events-per-day']);
const REQUESTS = Number(args.requests);
const FIRST_DAY = Date.parse(`${args['first-day']}T00:00:00Z`);
const PV = { category: 'page interaction', name: 'pageview' };
const CTA = { category: 'page interaction', name: 'cta click' };
const SUBMIT = { category: 'form interaction', name: 'submit' };

const dayOf = (i: number): string => new Date(FIRST_DAY + i * 86_400_000).toISOString().slice(0, 10);
const start = (day: string): string => `${day}T00:00:00.000000Z`;
const end = (day: string): string => `${day}T23:59:59.999999Z`;

const config = loadConfig({
  ARCHIVE_DIR: resolve(args.dir),
  DUCKDB_MEMORY_LIMIT: args['memory-limit'],
  DUCKDB_THREADS: args.threads,
});
const duckdb = new DuckDbService(config);
const reader = new ArchiveReader(duckdb);
let peakRss = 0;
const sampleRss = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

interface Timing {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** `n` timed runs after one untimed warm-up run (DuckDB's start, the files' footers cached). */
async function timed(n: number, run: (i: number) => Promise<unknown>): Promise<Timing> {
  await run(0);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    ms.push(performance.now() - t0);
    sampleRss();
  }
  ms.sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)];
  return { n, p50: at(0.5), p95: at(0.95), max: ms[ms.length - 1] };
}

async function seed(): Promise<{ seconds: number; seeded: number }> {
  const t0 = performance.now();
  let seeded = 0;
  for (let i = 0; i < DAYS; i++) {
    const day = dayOf(i);
    const dir = dayDir(config.archiveDir, day);
    const final = join(dir, `seed-${PER_DAY}.parquet`);
    if (args.reuse && (await stat(final).catch(() => null))) continue;
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.seed-${PER_DAY}.tmp`);
    const first = join(dayDir(config.archiveDir, dayOf(0)), `seed-${PER_DAY}.parquet`);
    await duckdb.use((c) =>
      args.derive && i > 0
        ? deriveDay(c, { source: first, fromIndex: 0, index: i, events: PER_DAY, path: temp })
        : seedDay(c, { day, index: i, events: PER_DAY, sessionLength: 20, rareEvery: 1_000_000, path: temp }),
    );
    await rename(temp, final);
    seeded++;
    sampleRss();
    const took = ((performance.now() - t0) / 1000).toFixed(0);
    process.stdout.write(
      `seeded ${day} (${i + 1}/${DAYS}) at ${took} s, RSS ${Math.round(peakRss / 1e6)} MB\n`,
    );
  }
  return { seconds: (performance.now() - t0) / 1000, seeded };
}

async function sampleSessions(n: number): Promise<string[]> {
  const files = await archiveFiles(config.archiveDir);
  const per = Math.ceil(n / files.length);
  const sessions: string[] = [];
  for (const file of files) {
    const rows = await duckdb.use(async (c) =>
      (
        await c.runAndReadAll(
          `SELECT DISTINCT session_id FROM read_parquet(${sqlLiteral(file)})
           WHERE hash(session_id) % 100 = 7 ORDER BY session_id LIMIT ${per}`,
        )
      ).getRowObjects(),
    );
    sessions.push(...rows.map((r) => String(r.session_id)));
  }
  return sessions.slice(0, n);
}

async function main(): Promise<void> {
  const seeding = args['measure-only'] ? { seconds: 0, seeded: 0 } : await seed();
  if (args['seed-only']) {
    process.stdout.write(`seeded ${seeding.seeded} day(s) in ${seeding.seconds.toFixed(0)} s\n`);
    return;
  }
  // The bench has no catalogue: its own files are every file of the folder it wrote.
  const days = await archiveFilesByDay(config.archiveDir);
  const files = days.flatMap((d) => d.files);
  const bytes = (await Promise.all(files.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0);
  const events = DAYS * PER_DAY;
  const month = { from: start(dayOf(0)), to: end(dayOf(DAYS - 1)) };
  const sessions = await sampleSessions(REQUESTS);
  const few = Math.max(3, Math.min(REQUESTS, 20));

  const timeline = await timed(sessions.length, (i) =>
    reader.events(days, { sessionId: sessions[i] }, 'asc', null, 101),
  );
  const page1 = await timed(REQUESTS, (i) =>
    reader.events(days, { ...CTA, from: start(dayOf(i % DAYS)), to: end(dayOf(i % DAYS)) }, 'asc', null, 51),
  );
  const pageMonth = await timed(REQUESTS, (i) =>
    reader.events(days, { ...CTA, ...month }, i % 2 ? 'asc' : 'desc', null, 51),
  );
  const rare = await timed(few, () => reader.events(days, { name: 'reset', ...month }, 'asc', null, 51));
  const stats = await timed(few, () =>
    reader.counts(days, { interval: 'day', tz: 'UTC', groupBy: 'name', filter: {}, ...month }),
  );
  const t0 = performance.now();
  let exported = 0;
  for await (const chunk of reader.exportEvents(days, { ...PV, from: start(dayOf(0)), to: end(dayOf(0)) })) {
    exported += chunk.length;
    sampleRss();
  }
  const exportSeconds = (performance.now() - t0) / 1000;
  const funnel = async (nDays: number): Promise<Timing & { steps: number[] }> => {
    const span = Math.min(nDays, DAYS);
    let steps: number[] = [];
    const t = await timed(3, async () => {
      steps = await reader.sessionsPerStep(days, {
        steps: [PV, CTA, SUBMIT],
        withinMs: 30 * 60_000,
        from: start(dayOf(0)),
        to: end(dayOf(span - 1)),
      });
    });
    return { ...t, steps };
  };
  const funnels = { 1: await funnel(1), 7: await funnel(7), 30: await funnel(30) };

  const f = (ms: number): string => (ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en-US'));
  const row = (what: string, t: Timing, target: string): string =>
    `| ${what} | ${t.n} | ${f(t.p50)} ms | **${f(t.p95)} ms** | ${f(t.max)} ms | ${target} |`;
  const md = `# Month bench (archive tier)

\`npm run bench:month -- --days ${DAYS} --events-per-day ${PER_DAY} --requests ${REQUESTS}\` — ${new Date().toISOString()},
${availableParallelism()} cores, Node ${process.version}, DuckDB threads ${args.threads} (capped at the cores),
memory_limit ${args['memory-limit']}. ${DAYS} days × ${PER_DAY.toLocaleString('en-US')} events of the brief's three types
(sessions of 20 events, pageview → CTA click → form submit, one rare \`reset\` in 1 M) generated
straight into the archive's format by DuckDB (bench/month/seed.repository.ts) in ${seeding.seconds.toFixed(1)} s
(${seeding.seeded} day(s) written this run), read through src/archive's ArchiveReader. Not through
HTTP, and not spanning PostgreSQL: the archive is not wired into the API yet (docs/storage.md).
${DAYS < 30 || PER_DAY < 8_640_000 ? '\n**Small run: the figures only prove the bench works; the targets are for 30 × 8.64 M on a quiet machine.**\n' : ''}
Each query: one untimed warm-up request, then the requests counted below, one at a time.

| what | requests | p50 | p95 | max | issue 22 target |
|---|---|---|---|---|---|
| archive size | | | **${(bytes / events).toFixed(1)} bytes/event** | ${(bytes / 1e6).toFixed(0)} MB in ${files.length} files | ≤ 40 bytes/event |
${row('a session timeline (no time range: all days)', timeline, '≤ 50 ms')}
${row('`/v1/events` first page, category + name, 1 day', page1, '≤ 100 ms')}
${row(`same, over ${DAYS} days (asc and desc)`, pageMonth, '≤ 300 ms')}
${row(`a rare name alone over ${DAYS} days`, rare, '≤ 1 s')}
${row(`counts per day by type over ${DAYS} days (scan; the hot tier reads rollups)`, stats, '≤ 100 ms (rollups)')}
| export of one type for one day | 1 | | **${Math.round(exported / exportSeconds).toLocaleString('en-US')} events/s** | ${exported.toLocaleString('en-US')} events in ${exportSeconds.toFixed(2)} s | ≥ 100k events/s |
${row(`3-step funnel, 1 day (sessions per step ${funnels[1].steps.join(' → ')})`, funnels[1], '≤ 1 s')}
${row(`3-step funnel, ${Math.min(7, DAYS)} days (${funnels[7].steps.join(' → ')})`, funnels[7], '≤ 3 s')}
${row(`3-step funnel, ${Math.min(30, DAYS)} days (${funnels[30].steps.join(' → ')})`, funnels[30], '≤ 10 s')}

Peak RSS of the bench process (Node + DuckDB): ${Math.round(peakRss / 1e6)} MB.
`;
  await writeFile(args.out, md);
  process.stdout.write(md);
}

main()
  .catch((err: unknown) => {
    process.exitCode = 1;
    console.error(err);
  })
  .finally(() => duckdb.onApplicationShutdown());
