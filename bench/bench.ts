/**
 * The Eye benchmark (issue 5): `npm run bench` (tsx bench/bench.ts).
 *
 * Builds the service into dist-bench/ (never dist/), starts it on a free loopback port against its own
 * database (the_eye_bench) and Redis db 13, and measures in one run:
 *   baseline       bare node:http server answering 202 to the same body (child process)
 *   single         POST /v1/events as fast as it goes: acked req/s, ack p50/p99, events/s persisted
 *   batch          POST /v1/events/batch of 100 events: acked events/s, events/s persisted
 *   segment-batch  POST /v1/batch (Segment's API, write key) of 100 track messages, as the batch phase
 *   raw-copy       the batch phase's events (as many as it stored) copied with one COPY stream into a scratch
 *                  copy of `events` with its indexes, service idle: batch persisted events/s is reported as a
 *                  ratio to it
 *   rate1k-single  1,000 events/s offered (single), ack p50/p99
 *   rate1k-batch   1,000 events/s offered (10 batches/s), ack p50/p99
 *   rate60-single  60 % of the single ceiling offered
 *   rate60-batch   60 % of the batch ceiling offered
 * "Persisted" is measured until the queue is drained (the queued-events hash and the Bull queue are
 * empty), so a growing backlog cannot pass for throughput: rate = rows / (drain time - load start).
 * Tables are truncated between phases so every count is exact.
 *
 * Modules: config.ts (the BENCH_* settings), lib/service.ts (the harness shared with the other tools),
 * setup.ts (build, start, credentials), phases.ts (one phase), raw-copy.ts, load.ts (the generators, paced.ts),
 * sampling.ts (what is read during and after a phase), report.ts and profile.ts (the output).
 *
 * Environment (all optional):
 *   BENCH_SECONDS=60             load duration of each phase (10 for a quick run)
 *   BENCH_CONNECTIONS=50         connections of the baseline and single-event ceiling runs
 *   BENCH_BATCH_CONNECTIONS=10   connections of the batch ceiling run
 *   BENCH_BATCH_SIZE=100         events per batch request
 *   BENCH_PHASES=a,b,...         subset of the phases above (default: all)
 *   BENCH_RATE_TOOL=paced        fixed-rate runs: `paced` (open loop, evenly spaced, latency from the scheduled
 *                                send time; a child process, bench/paced.ts), `paced-http` (the same
 *                                from this process with node:http, for comparison) or `autocannon`
 *                                (overallRate; bursts at each second, see docs)
 *   BENCH_NODE_FLAGS="..."       extra node flags for the service, e.g. --trace-gc (a `--require x.ts`
 *                                probe is loaded through tsx's hook)
 *   BENCH_TRACE=1                paced phases also write every request's scheduled time, latency and status to
 *                                bench/results/trace-<phase>.csv (to see when the slow ones happened)
 *   BENCH_IDS=1                  send client-chosen UUIDv7 ids (0: let the server assign them)
 *   BENCH_BATCH_DATA=native      `segment`: the batch phase's events carry what a segment-batch message becomes
 *                                (same category, name and data, ~580 bytes queued instead of ~330), to compare
 *                                the two routes on equal events
 *   BENCH_RATE60_SINGLE=n, BENCH_RATE60_BATCH=n   run the rate60 phases at n events/s instead of 60 % of this
 *                                run's ceiling (same offered load across runs, for before/after comparisons)
 *   BENCH_PROFILE=1              run the service under --cpu-prof (single phase only unless BENCH_PHASES) and
 *                                summarise self time; results go to bench/results/profile-latest.*
 *   BENCH_URL=http://host:port   target a running instance instead (then BENCH_ADMIN_ID/BENCH_ADMIN_SECRET,
 *                                BENCH_DATABASE_URL, BENCH_REDIS_URL must match it; BENCH_SERVICE_PID for RSS)
 *   BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_MAX_BACKLOG (MAX_QUEUE_BACKLOG given to the service),
 *   BENCH_DRAIN_TIMEOUT (s), BENCH_STALL_SECONDS, BENCH_WARMUP_SECONDS, BENCH_SKIP_BUILD=1, BENCH_SERVICE_ENV
 *   (extra KEY=VALUE,... for the service, e.g. WORKER_CONCURRENCY=8)
 *
 *   npx tsx bench/bench.ts --profile-summary file.cpuprofile [top]   summarise an existing CPU profile
 */
import { mkdirSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { OUT_DIR, PROFILE_DIR, cfg, hrUs, log, round } from './config';
import { procMem } from './lib/proc';
import { ROOT, type Service, cleanup, freePort, killChildrenOnExit, stopChild } from './lib/service';
import { autocannonRun } from './load';
import { type Endpoint, baselinePhase, payloads, servicePhase } from './phases';
import { profileMarkdown, summarizeProfile } from './profile';
import { rawCopyEvents, rawCopyPhase } from './raw-copy';
import { type BenchResult, gitInfo, markdown, servicePhases, targetChecks } from './report';
import { type BenchContext, truncateTables, waitDrain } from './sampling';
import { authenticate, build, resetStores, sanityCheck, startBenchService } from './setup';

killChildrenOnExit((m) => log(m));

/** Runs every configured phase in order; rate60 phases take their rate from this run's ceilings. */
async function runPhases(ctx: BenchContext, result: BenchResult): Promise<void> {
  const ph = result.phases;
  const run = (name: string, endpoint: Endpoint, rate?: number) =>
    servicePhase(ctx, name, {
      endpoint,
      connections: endpoint === 'single' ? cfg.connections : cfg.batchConnections,
      rate,
    });
  for (const phase of cfg.phases) {
    if (phase === 'baseline') ph.baseline = await baselinePhase(ctx);
    else if (phase === 'single') ph.single = await run(phase, 'single');
    else if (phase === 'batch') ph.batch = await run(phase, 'batch');
    else if (phase === 'segment-batch') ph[phase] = await run(phase, 'segment-batch');
    else if (phase === 'raw-copy') ph[phase] = await rawCopyPhase(ctx, rawCopyEvents(ph.batch?.rows_stored));
    else if (phase === 'rate1k-single') ph[phase] = await run(phase, 'single', 1000);
    else if (phase === 'rate1k-batch') ph[phase] = await run(phase, 'batch', 1000);
    else {
      // 60 % of the sustainable ceiling: the lower of acked and persisted events/s of the ceiling run.
      const endpoint = phase.endsWith('batch') ? 'batch' : 'single';
      const ceil = ph[phase === 'rate60-single' ? 'single' : 'batch'];
      const fixed = phase === 'rate60-single' ? cfg.rate60Single : cfg.rate60Batch;
      if (fixed) {
        // A given rate (A/B comparisons at the same offered load): no ceiling phase needed.
        ph[phase] = await run(phase, endpoint, fixed);
        continue;
      }
      if (!ceil) {
        log(`${phase}: skipped (needs the ${phase === 'rate60-single' ? 'single' : 'batch'} phase first)`);
        continue;
      }
      const sustainable = Math.min(
        ceil.acked_events_per_s,
        ceil.persisted_events_per_s || ceil.acked_events_per_s,
      );
      const unit = ceil.endpoint.endsWith('batch') ? cfg.batchSize : 1;
      const rate = Math.max(1, Math.round((0.6 * sustainable) / unit) * unit);
      const r = await run(phase, endpoint, rate);
      r.ceiling_events_per_s = sustainable;
      ph[phase] = r;
    }
  }
}

/** Service runs: the warm-up phases, so the first measured phase does not pay for JIT and pools. */
async function warmUp(ctx: BenchContext): Promise<void> {
  log(`warm-up ${cfg.warmupSeconds}s single + ${cfg.warmupSeconds}s batch`);
  await autocannonRun({
    base: ctx.base,
    path: '/v1/events',
    token: ctx.token,
    bodyFn: payloads.singleBody,
    connections: cfg.connections,
    seconds: cfg.warmupSeconds,
  });
  await autocannonRun({
    base: ctx.base,
    path: '/v1/events/batch',
    token: ctx.token,
    bodyFn: () => payloads.batchBody(),
    connections: cfg.batchConnections,
    seconds: cfg.warmupSeconds,
  });
  const d = await waitDrain(ctx, performance.now());
  if (!d.drained) log(`warm-up: ${d.note} — is the worker running? persistence figures will be wrong`);
  await truncateTables(ctx.pg);
}

/** Stops the service; under BENCH_PROFILE, after it wrote its profile, summarises the phases' window. */
async function stopService(
  service: Service,
  result: BenchResult,
  hrProfile: [number, number],
): Promise<void> {
  if (!cfg.profile) return stopChild(service.child, 'SIGTERM', 20_000);
  await stopChild(service.child, 'SIGUSR2', 60_000);
  const files = existsSync(PROFILE_DIR)
    ? readdirSync(PROFILE_DIR).filter(
        (f) => f.endsWith('.cpuprofile') && f.includes(`.${service.child.pid}.`),
      )
    : [];
  if (!files.length) return log('no .cpuprofile written');
  const file = join(PROFILE_DIR, files[0]);
  const ranges = servicePhases(result.phases)
    .map((r) => r.window_hr_us)
    .filter((r): r is [number, number] => r !== undefined);
  const window: [number, number] = ranges.length
    ? [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))]
    : hrProfile;
  try {
    result.profile = summarizeProfile(file, { window });
    log(`profile: ${relative(ROOT, file)}`);
  } catch (err) {
    log(`profile summary failed: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--profile-summary') {
    const s = summarizeProfile(resolve(argv[1]), { top: Number(argv[2] || 30) });
    console.log(profileMarkdown(s));
    return;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const overall = setTimeout(
    () => {
      log('overall time limit reached: stopping');
      void cleanup().finally(() => process.exit(2));
    },
    (600 + cfg.phases.length * (cfg.seconds + cfg.drainTimeout + 30) + 2 * cfg.warmupSeconds) * 1000,
  );
  overall.unref();

  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();

  let service: Service | undefined;
  let base = cfg.url;
  let pid = cfg.servicePid;
  if (!base) {
    if (!cfg.skipBuild) build();
    await resetStores(redis);
    const port = await freePort();
    log(`starting the service on 127.0.0.1:${port}${cfg.profile ? ' under --cpu-prof' : ''}`);
    service = await startBenchService(port);
    base = service.base;
    pid = service.child.pid;
  } else if (!cfg.adminSecret)
    throw new Error('BENCH_URL needs BENCH_ADMIN_SECRET (and BENCH_ADMIN_ID unless bench-admin)');
  const hrProfileStart = hrUs();

  const pg = new Client({ connectionString: cfg.databaseUrl, statement_timeout: 60_000 });
  await pg.connect();
  const ctx: BenchContext = {
    base,
    pid,
    redis,
    pg,
    dbName: decodeURIComponent(new URL(cfg.databaseUrl).pathname.slice(1)),
  };
  const result: BenchResult = {
    date: new Date().toISOString(),
    command: `${Object.entries(process.env)
      .filter(([k]) => k.startsWith('BENCH_'))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} npm run bench`.trim(),
    config: { ...cfg, adminSecret: undefined, serviceEnv: cfg.serviceEnv },
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      node: process.version,
      loadavg_at_start: loadavg().map((x) => round(x, 2)),
    },
    git: gitInfo(),
    target: cfg.url ? cfg.url : 'spawned dist-bench/main.js',
    phases: {},
    checks: [],
  };
  try {
    const auth = await authenticate(base);
    ctx.token = auth.token;
    ctx.adminToken = auth.adminToken;
    ctx.segmentAuth = auth.segmentAuth;
    await sanityCheck(ctx);
    log('auth and sanity requests OK');
    if (cfg.warmupSeconds > 0 && cfg.phases.some((p) => p !== 'baseline')) await warmUp(ctx);
    await runPhases(ctx, result);
    const b = result.phases.baseline;
    for (const r of servicePhases(result.phases)) {
      if (!b) continue;
      r.vs_baseline = {
        acked_req: round((r.acked_req_per_s ?? NaN) / b.acked_req_per_s, 3),
        acked_events: round(r.acked_events_per_s / b.acked_req_per_s, 3),
        persisted_events: round(r.persisted_events_per_s / b.acked_req_per_s, 3),
      };
    }
    if (pid) result.service_rss_hwm_mb = round(procMem(pid)?.hwmMb, 1);
    result.checks = targetChecks(result.phases);
  } finally {
    const hrProfileEnd = hrUs();
    await pg.end().catch(() => undefined);
    await redis.quit().catch(() => undefined);
    if (service) await stopService(service, result, [hrProfileStart, hrProfileEnd]);
    await cleanup();
  }
  for (const r of servicePhases(result.phases)) delete r.window_hr_us;
  const stem = cfg.profile ? 'profile-latest' : 'latest';
  let md = markdown(result);
  if (result.profile) md += `\n\n${profileMarkdown(result.profile)}`;
  writeFileSync(join(OUT_DIR, `${stem}.json`), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(OUT_DIR, `${stem}.md`), md + '\n');
  console.log(md);
  log(`wrote bench/results/${stem}.json and bench/results/${stem}.md`);
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    log(`failed: ${err instanceof Error && err.stack ? err.stack : String(err)}`);
    await cleanup();
    process.exit(1);
  },
);
