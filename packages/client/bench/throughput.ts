/**
 * End-to-end throughput of the `eye` CLI (npm run bench:client, from the repository root; tsx):
 * starts the service (dist/main.js, with the node flags of `npm start`) on its own database and
 * Redis database, writes an NDJSON file of BENCH_EVENTS events, runs `eye send` on it, waits until
 * every event is stored, and prints the rate client → stored and the CLI's peak RSS.
 *
 * Environment (all optional):
 *   BENCH_EVENTS        events in the file (default 1,000,000)
 *   BENCH_DATABASE_URL  default postgresql://postgres@127.0.0.1:5432/the_eye_bench_client (dropped first)
 *   BENCH_REDIS_URL     default redis://127.0.0.1:6379/12 (flushed first)
 *   BENCH_CONCURRENCY   the CLI's --concurrency (default: the CLI's own)
 *   BENCH_BATCH_SIZE    the CLI's --batch-size (default: the CLI's own)
 *   BENCH_KEEP_FILE=1   keep the NDJSON file (its path is printed)
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import {
  ROOT,
  cleanup,
  dropBenchDatabase,
  freePort,
  killChildrenOnExit,
  startService,
  stopChild,
  track,
} from '../../../bench/lib/service';
import { clientToken, registerClient, storesEnv } from '../../../bench/lib/clients';

const CLI = join(__dirname, '..', 'dist', 'cli.js');
// Run as a user runs it: the bin, with the node flags of its shebang.
const EYE = join(__dirname, '..', 'bin', 'eye.js');
const env = process.env;
const cfg = {
  events: Number(env.BENCH_EVENTS || 1_000_000),
  databaseUrl: env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_bench_client',
  redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/12',
  adminId: 'bench-admin',
  adminSecret: randomBytes(16).toString('hex'),
};

function log(message: string): void {
  process.stderr.write(`[bench:client] ${message}\n`);
}
killChildrenOnExit(log);

async function resetStores(): Promise<void> {
  await dropBenchDatabase(cfg.databaseUrl);
  const redis = new Redis(cfg.redisUrl);
  await redis.flushdb();
  redis.disconnect();
}

/** The service with a worker, ready (/ready) before the CLI sends anything; its log in the temp folder. */
async function startBenchService(): Promise<{
  child: ReturnType<typeof spawn>;
  url: string;
  logPath: string;
}> {
  const logPath = join(tmpdir(), `eye-bench-client-service-${process.pid}.log`);
  const service = await startService({
    entry: join('dist', 'main.js'),
    port: await freePort(),
    env: {
      PATH: env.PATH,
      NODE_ENV: 'development',
      ...storesEnv(cfg.databaseUrl, cfg.redisUrl, { id: cfg.adminId, secret: cfg.adminSecret }),
      LOG_LEVEL: 'warn',
    },
    logPath,
    readyPath: '/ready',
  });
  return { child: service.child, url: service.base, logPath };
}

async function registerWriter(url: string): Promise<{ clientId: string; secret: string }> {
  const admin = await clientToken(url, cfg.adminId, cfg.adminSecret);
  const c = await registerClient(url, admin, 'bench client');
  return { clientId: c.client_id, secret: c.client_secret };
}

/** Events shaped like SPEC.md's example, without ids (the client assigns them, as in an application). */
async function writeEvents(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const sessions = Array.from({ length: 1000 }, () => randomUUID());
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const line =
      `{"session_id":"${sessions[i % sessions.length]}","category":"page interaction","name":"pageview",` +
      `"data":{"host":"www.consumeraffairs.com","path":"/products/${i % 997}"},` +
      `"timestamp":"${now}"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI) || !existsSync(join(ROOT, 'dist', 'main.js'))) {
    throw new Error('build first: npm run build && npm run build -w @the-eye/client');
  }
  log(`${cfg.events.toLocaleString('en-US')} events; database ${cfg.databaseUrl}, redis ${cfg.redisUrl}`);
  await resetStores();
  const service = await startBenchService();
  const writer = await registerWriter(service.url);
  const file = join(tmpdir(), `eye-bench-client-${process.pid}.ndjson`);
  await writeEvents(file, cfg.events);
  log(`wrote ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB); sending`);

  const db = new Client({ connectionString: cfg.databaseUrl });
  await db.connect();
  // Quarantined events count as done (and fail the run): waiting for them would only time out.
  const settled = async () => {
    const { rows } = await db.query<{ stored: string; rejected: string }>(
      'SELECT (SELECT count(*) FROM events) AS stored, (SELECT count(*) FROM rejected_events) AS rejected',
    );
    return { stored: Number(rows[0].stored), rejected: Number(rows[0].rejected) };
  };

  const args = ['send', file, '--quiet'];
  if (env.BENCH_CONCURRENCY) args.push('--concurrency', env.BENCH_CONCURRENCY);
  if (env.BENCH_BATCH_SIZE) args.push('--batch-size', env.BENCH_BATCH_SIZE);
  const started = performance.now();
  const cli = track(
    spawn(EYE, args, {
      env: {
        PATH: env.PATH,
        EYE_URL: service.url,
        EYE_CLIENT_ID: writer.clientId,
        EYE_CLIENT_SECRET: writer.secret,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let cliOut = '';
  cli.stdout.on('data', (d: Buffer) => (cliOut += d.toString()));
  let peakKb = 0;
  const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(cli.pid!))), 50);
  const cliExit = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
  let cliCode: number | null | undefined;
  let cliSeconds = NaN;
  void cliExit.then((code) => {
    cliCode = code;
    cliSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
  });

  let count = 0;
  let rejected = 0;
  let lastChange = performance.now();
  while (count + rejected < cfg.events) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await settled();
    if (now.stored + now.rejected !== count + rejected) lastChange = performance.now();
    count = now.stored;
    rejected = now.rejected;
    if (cliCode !== undefined && cliCode !== 0) break;
    if (performance.now() - lastChange > 60_000) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await cliExit;
  await db.end();

  const result = {
    events: cfg.events,
    stored: count,
    quarantined: rejected,
    end_to_end_seconds: Number(seconds.toFixed(2)),
    end_to_end_events_per_second: Math.round(count / seconds),
    cli_seconds: Number(cliSeconds.toFixed(2)),
    cli_exit_code: cliCode,
    cli_peak_rss_mb: Number((peakKb / 1024).toFixed(1)),
    cpus: cpus().length,
  };
  log(`cli: ${cliOut.trim()}`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);

  if (env.BENCH_KEEP_FILE === '1') log(`kept ${file}`);
  else rmSync(file, { force: true });
  await stopChild(service.child, 'SIGTERM');
  if (count !== cfg.events || cliCode !== 0) {
    log(`FAILED: ${count} of ${cfg.events} stored, cli exit ${cliCode}; service log ${service.logPath}`);
    process.exitCode = 1;
  }
}

main().catch(async (err: unknown) => {
  log(err instanceof Error && err.stack ? err.stack : String(err));
  await cleanup(1_000);
  process.exitCode = 1;
});
