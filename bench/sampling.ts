// What the benchmark reads while and after a phase runs: memory of the service and Redis, the
// service's own event-loop figures, the queue's state, and the rows stored.
import type Redis from 'ioredis';
import type { Client } from 'pg';
import { BULL, QUEUED_EVENTS_KEY, cfg, round } from './config';
import { httpJson } from './lib/http';
import { procMem } from './lib/proc';
import { sleep } from './lib/service';

/** What every phase works with. */
export interface BenchContext {
  base: string;
  pid: number | undefined;
  redis: Redis;
  pg: Client;
  token?: string;
  adminToken?: string;
  segmentAuth?: string;
  dbName: string;
  /**
   * How a phase counts what it stored and clears it; default: every row of events and
   * rejected_events, then TRUNCATE. The month bench keeps its month and counts one client's rows.
   */
  rows?: {
    count: (pg: Client) => Promise<{ events: number; rejected: number }>;
    reset: (pg: Client) => Promise<void>;
  };
}

export interface Samples {
  rssMaxMb: number;
  redisMaxMb: number;
  redisStartMb: number | null;
  hlenMax: number;
}

/** Polls RSS of the service and Redis used_memory while a phase runs. */
export function startSampler(ctx: BenchContext): { stop: () => Promise<Samples> } {
  const s: Samples = { rssMaxMb: 0, redisMaxMb: 0, redisStartMb: null, hlenMax: 0 };
  let busy = false;
  const once = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      if (ctx.pid) {
        const m = procMem(ctx.pid);
        if (m) s.rssMaxMb = Math.max(s.rssMaxMb, m.rssMb);
      }
      const [info, hlen] = await Promise.all([ctx.redis.info('memory'), ctx.redis.hlen(QUEUED_EVENTS_KEY)]);
      const used = Number(/used_memory:(\d+)/.exec(info)![1]) / 2 ** 20;
      if (s.redisStartMb === null) s.redisStartMb = used;
      s.redisMaxMb = Math.max(s.redisMaxMb, used);
      s.hlenMax = Math.max(s.hlenMax, hlen);
    } catch {
      // Redis busy or restarting: this sample is skipped
    } finally {
      busy = false;
    }
  };
  void once();
  const timer = setInterval(() => void once(), 250);
  return {
    stop: async () => {
      clearInterval(timer);
      await once();
      return s;
    },
  };
}

/** prom-client samples the event loop with a 10 ms timer and reports the intervals: lateness = interval - 10 ms. */
const LOOP_RESOLUTION_S = 0.01;

export interface ServiceStalls {
  /** How late the service ran its timers since the previous scrape (ms). */
  event_loop_delay_ms: { p50: number | null; p99: number | null; max: number | null };
  /** The longest GC pause since the previous scrape, as the upper bound of its histogram bucket (ms). */
  gc_max_pause_ms: number | null;
  /** GC pause time since the previous scrape given as `since` (ms, all kinds); since start without one. */
  gc_pause_ms: number | null;
  /** GC pause seconds since start, all kinds. */
  gcTotalS: number | null;
  /** Cumulative GC pause counts by bucket bound (s), all kinds: the next scrape's diff gives the window's max. */
  gcBuckets: Map<number, number>;
}

/**
 * The service's own view of its event loop (GET /metrics, admin token, prom-client's default metrics):
 * event-loop lag quantiles since the previous scrape and the GC pause histogram. Scraped at a phase's
 * start (opens the window) and end; pass the start's result as `since` to get the window's longest GC
 * pause.
 */
export async function serviceStalls(
  ctx: BenchContext,
  since?: ServiceStalls | null,
): Promise<ServiceStalls | null> {
  if (!ctx.adminToken) return null;
  try {
    // Prometheus text is not JSON: httpJson hands it back as text.
    const res = await httpJson<unknown>('GET', `${ctx.base}/metrics`, undefined, ctx.adminToken, 5_000);
    if (res.status !== 200 || typeof res.body !== 'string') return null;
    const text = res.body;
    const value = (name: string): number | null => {
      const m = new RegExp(`^${name.replace(/[{}."=+]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    const lateMs = (name: string): number | null => {
      const v = value(name);
      return v === null ? null : round(Math.max(0, v - LOOP_RESOLUTION_S) * 1000, 1);
    };
    const gcBuckets = new Map<number, number>();
    for (const m of text.matchAll(/^nodejs_gc_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
      const bound = /le="([^"]+)"/.exec(m[1])?.[1];
      if (bound === undefined) continue;
      const le = bound === '+Inf' ? Infinity : Number(bound);
      gcBuckets.set(le, (gcBuckets.get(le) ?? 0) + Number(m[2]));
    }
    let gcTotal: number | null = null;
    for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="[^"]*"\} (\S+)$/gm))
      gcTotal = (gcTotal ?? 0) + Number(m[1]);
    // The smallest bound under which every pause of the window fell (bucket counts are cumulative).
    let gcMax: number | null = null;
    if (since) {
      const bounds = [...gcBuckets.keys()].sort((a, b) => a - b);
      const total = (le: number): number => (gcBuckets.get(le) ?? 0) - (since.gcBuckets.get(le) ?? 0);
      const all = total(Infinity);
      gcMax = all === 0 ? 0 : (bounds.find((le) => total(le) === all) ?? Infinity) * 1000;
    }
    return {
      event_loop_delay_ms: {
        p50: lateMs('nodejs_eventloop_lag_p50_seconds'),
        p99: lateMs('nodejs_eventloop_lag_p99_seconds'),
        max: lateMs('nodejs_eventloop_lag_max_seconds'),
      },
      gc_max_pause_ms: gcMax,
      gc_pause_ms: gcTotal === null ? null : round((gcTotal - (since?.gcTotalS ?? 0)) * 1000, 1),
      gcTotalS: gcTotal,
      gcBuckets,
    };
  } catch {
    return null;
  }
}

export async function queueState(redis: Redis): Promise<{ hlen: number; jobs: number; failed: number }> {
  const [hlen, wait, active, delayed, failed, paused] = await Promise.all([
    redis.hlen(QUEUED_EVENTS_KEY),
    redis.llen(`${BULL}:wait`),
    redis.llen(`${BULL}:active`),
    redis.zcard(`${BULL}:delayed`),
    redis.zcard(`${BULL}:failed`),
    redis.llen(`${BULL}:paused`),
  ]);
  return { hlen, jobs: wait + active + delayed + paused, failed };
}

async function insertedTuples(pg: Client): Promise<number> {
  const r = await pg.query<{ n: string }>(
    "SELECT coalesce(sum(n_tup_ins), 0)::bigint AS n FROM pg_stat_user_tables WHERE relname IN ('events', 'rejected_events')",
  );
  return Number(r.rows[0].n);
}

export interface Drain {
  drained: boolean;
  tDrainMs: number;
  failedJobs: number;
  note: string | null;
}

/**
 * Waits until everything queued is stored: queued-events hash and Bull queue empty. Gives up when nothing
 * moves for stallSeconds (no worker, or a stuck one) or after drainTimeout.
 */
export async function waitDrain(
  ctx: BenchContext,
  _tLoadStartMs: number,
  { timeoutS = cfg.drainTimeout, stallS = cfg.stallSeconds } = {},
): Promise<Drain> {
  const started = performance.now();
  let lastProgress = performance.now();
  let lastHlen = Infinity;
  let lastIns = await insertedTuples(ctx.pg).catch(() => 0);
  let lastInsCheck = performance.now();
  let hashStuckSince: number | null = null;
  for (;;) {
    const q = await queueState(ctx.redis);
    const now = performance.now();
    if (q.hlen === 0 && q.jobs === 0)
      return { drained: true, tDrainMs: now, failedJobs: q.failed, note: null };
    if (q.hlen < lastHlen) lastProgress = now;
    lastHlen = q.hlen;
    if (now - lastInsCheck >= 1000) {
      const ins = await insertedTuples(ctx.pg).catch(() => lastIns);
      if (ins > lastIns) lastProgress = now;
      lastIns = ins;
      lastInsCheck = now;
    }
    if (q.jobs === 0 && q.hlen > 0) {
      hashStuckSince ??= now;
      if (now - hashStuckSince > 5000) {
        return {
          drained: true,
          tDrainMs: hashStuckSince,
          failedJobs: q.failed,
          note: `Bull queue empty but ${q.hlen} ids left in ${QUEUED_EVENTS_KEY}`,
        };
      }
    } else hashStuckSince = null;
    if (now - lastProgress > stallS * 1000) {
      return {
        drained: false,
        tDrainMs: lastProgress,
        failedJobs: q.failed,
        note: `no progress for ${stallS}s (hash ${q.hlen}, jobs ${q.jobs}, failed ${q.failed})`,
      };
    }
    if (now - started > timeoutS * 1000) {
      return {
        drained: false,
        tDrainMs: now,
        failedJobs: q.failed,
        note: `drain timeout ${timeoutS}s (hash ${q.hlen}, jobs ${q.jobs})`,
      };
    }
    await sleep(100);
  }
}

export async function truncateTables(pg: Client): Promise<void> {
  await pg.query('TRUNCATE events, sessions, event_counts, rejected_events');
}

export async function countRows(pg: Client): Promise<{ events: number; rejected: number }> {
  const [e, r] = await Promise.all([
    pg.query<{ n: string }>('SELECT count(*)::bigint AS n FROM events'),
    pg.query<{ n: string }>('SELECT count(*)::bigint AS n FROM rejected_events'),
  ]);
  return { events: Number(e.rows[0].n), rejected: Number(r.rows[0].n) };
}
