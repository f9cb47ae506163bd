// The archive pass of one full day through the service (POST /v1/ops/archive) while single events
// arrive at a fixed rate (bench/paced.ts, open loop, latency from each request's scheduled time)
// from before the pass starts until it ends.
// The ack latencies are split by the trace into those scheduled while the pass ran and the rest.
import { readFileSync } from 'node:fs';
import { httpJson } from '../lib/http';
import { sleep } from '../lib/service';
import { pacedRun } from '../load';
import type { MonthService } from './service';
import { writer } from './service';

/** Longer than any pass: the run is stopped when the pass is over. */
const MAX_LOAD_S = 3_600;
const TAIL_MS = 10_000;

export interface LatencySplit {
  requests: number;
  non2xx: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export interface ArchiveUnderLoad {
  day: string;
  before: string;
  rate: number;
  load_seconds: number;
  pass_seconds: number;
  pass_status: number;
  pass_result: unknown;
  during_pass: LatencySplit;
  outside_pass: LatencySplit;
  whole_load: {
    requests: number;
    ok2xx: number;
    errors: number;
    timeouts: number;
    p50: number | null;
    p99: number | null;
  };
  pass_covered_by_load: boolean;
}

export function split(rows: { at: number; ms: number; status: number }[]): LatencySplit {
  const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number): number | null =>
    ms.length ? ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)] : null;
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);
  return {
    requests: rows.length,
    non2xx: rows.filter((r) => r.status < 200 || r.status > 299).length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(ms.length ? ms[ms.length - 1] : null),
  };
}

/** paced.ts's trace: one row per answered request (scheduled epoch ms, latency ms, status), by time. */
/** The load's figures around a pass that ran from `t0` to `t1` (ms): acks split by the pass. */
export function aroundPass(
  rows: { at: number; ms: number; status: number }[],
  result: { requests: number; ok2xx: number; errors: number; timeouts: number },
  t0: number,
  t1: number,
): Pick<ArchiveUnderLoad, 'load_seconds' | 'pass_seconds' | 'during_pass' | 'outside_pass' | 'whole_load'> {
  const whole = split(rows);
  return {
    load_seconds: Math.round((rows.length ? rows[rows.length - 1].at - rows[0].at : 0) / 1000),
    pass_seconds: Math.round((t1 - t0) / 100) / 10,
    during_pass: split(rows.filter((x) => x.at >= t0 && x.at <= t1)),
    outside_pass: split(rows.filter((x) => x.at < t0 || x.at > t1)),
    whole_load: {
      requests: result.requests,
      ok2xx: result.ok2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      p50: whole.p50,
      p99: whole.p99,
    },
  };
}

export function readTrace(file: string): { at: number; ms: number; status: number }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [at, ms, status] = line.split(',').map(Number);
      return { at, ms, status };
    })
    .sort((a, b) => a.at - b.at);
}

export async function archiveUnderLoad(
  m: MonthService,
  o: {
    day: string;
    before: string;
    rate: number;
    startAfterS: number;
    traceFile: string;
  },
  log: (s: string) => void,
): Promise<ArchiveUnderLoad> {
  const { token } = await writer(m, 'month archive-load');
  log(
    `load: ${o.rate} single events/s until the pass ends; the pass (before ${o.before}) after ${o.startAfterS} s`,
  );
  // The pass's length is unknown: one paced run long enough for any pass, stopped a few seconds
  // after the pass ends (a new generator forked mid-load would take CPU from the one running).
  const control: { stop?: () => void } = {};
  const load = pacedRun({
    base: m.base,
    path: '/v1/events',
    token,
    kind: 'single',
    rate: o.rate,
    seconds: MAX_LOAD_S,
    traceFile: o.traceFile,
    control,
  });
  await sleep(o.startAfterS * 1000);
  const t0 = Date.now();
  const pass = await httpJson(
    'POST',
    `${m.base}/v1/ops/archive`,
    { before: o.before },
    m.adminToken,
    3_600_000,
  );
  const t1 = Date.now();
  log(
    `pass: ${pass.status} in ${((t1 - t0) / 1000).toFixed(1)} s: ${JSON.stringify(pass.body).slice(0, 400)}`,
  );
  await sleep(TAIL_MS);
  control.stop?.();
  const result = await load;
  const rows = readTrace(o.traceFile);
  const lastScheduled = rows.length ? rows[rows.length - 1].at : 0;
  return {
    day: o.day,
    before: o.before,
    rate: o.rate,
    ...aroundPass(rows, result, t0, t1),
    pass_status: pass.status,
    pass_result: pass.body,
    pass_covered_by_load: lastScheduled >= t1,
  };
}
