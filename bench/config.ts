// The benchmark's settings, all from BENCH_* environment variables (see bench.ts for the list).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './lib/service';

export const OUT_DIR = join(ROOT, 'bench', 'results');
export const PROFILE_DIR = join(OUT_DIR, 'profiles');
export const BUILD_DIR = 'dist-bench';

export const ALL_PHASES = [
  'baseline',
  'single',
  'batch',
  'segment-batch',
  'raw-copy',
  'rate1k-single',
  'rate1k-batch',
  'rate60-single',
  'rate60-batch',
] as const;
export type PhaseName = (typeof ALL_PHASES)[number];
export type RateTool = 'paced' | 'paced-http' | 'autocannon';

// Redis keys of the service (src/queue/queue.contract.ts: prefix "the-eye", queue "events").
export const QUEUED_EVENTS_KEY = 'the-eye:queued-events';
export const BULL = 'the-eye:events';

const env = process.env;
const num = (name: string, def: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number (got "${v}")`);
  return n;
};
const PROFILE = env.BENCH_PROFILE === '1' || env.BENCH_PROFILE === 'true';
const SECONDS = num('BENCH_SECONDS', 60);

export const cfg = {
  seconds: SECONDS,
  connections: num('BENCH_CONNECTIONS', 50),
  batchConnections: num('BENCH_BATCH_CONNECTIONS', 10),
  batchSize: num('BENCH_BATCH_SIZE', 100),
  phases: (env.BENCH_PHASES || (PROFILE ? 'single' : ALL_PHASES.join(',')))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as PhaseName[],
  rateTool: (env.BENCH_RATE_TOOL || 'paced') as RateTool,
  ids: env.BENCH_IDS !== '0',
  batchData: (env.BENCH_BATCH_DATA || 'native') as 'native' | 'segment',
  profile: PROFILE,
  url: env.BENCH_URL || undefined,
  databaseUrl: env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_bench',
  redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/13',
  maxBacklog: num('BENCH_MAX_BACKLOG', 5_000_000),
  drainTimeout: num('BENCH_DRAIN_TIMEOUT', Math.max(60, 2 * SECONDS)),
  stallSeconds: num('BENCH_STALL_SECONDS', 15),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', Math.min(5, Math.max(1, Math.round(SECONDS / 4)))),
  skipBuild: env.BENCH_SKIP_BUILD === '1',
  rate60Single: num('BENCH_RATE60_SINGLE', 0),
  rate60Batch: num('BENCH_RATE60_BATCH', 0),
  trace: env.BENCH_TRACE === '1',
  nodeFlags: (env.BENCH_NODE_FLAGS || '').split(/\s+/).filter(Boolean),
  adminId: env.BENCH_ADMIN_ID || 'bench-admin',
  adminSecret: env.BENCH_ADMIN_SECRET || (env.BENCH_URL ? undefined : randomBytes(18).toString('base64url')),
  servicePid: env.BENCH_SERVICE_PID ? Number(env.BENCH_SERVICE_PID) : undefined,
  serviceEnv: Object.fromEntries(
    (env.BENCH_SERVICE_ENV || '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ) as Record<string, string>,
};
export type BenchConfig = typeof cfg;

if (!['native', 'segment'].includes(cfg.batchData))
  throw new Error(`BENCH_BATCH_DATA must be native or segment (got "${cfg.batchData}")`);
for (const p of cfg.phases)
  if (!(ALL_PHASES as readonly string[]).includes(p))
    throw new Error(`unknown phase "${p}" (known: ${ALL_PHASES.join(', ')})`);
if (!['paced', 'paced-http', 'autocannon'].includes(cfg.rateTool))
  throw new Error('BENCH_RATE_TOOL must be paced, paced-http or autocannon');

export const log = (...a: unknown[]): void =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
export const round = (x: number | null | undefined, d = 0): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d;
/** Microseconds on the same clock as .cpuprofile timestamps (Linux). */
export const hrUs = (): number => Number(process.hrtime.bigint() / 1000n);
