// The archive pass of one full day through the service (POST /v1/ops/archive) while single events
// arrive at a fixed rate (bench/paced.ts, open loop, latency from each request's scheduled time).
// The ack latencies are split by the trace into those scheduled while the pass ran and the rest.
import { readFileSync } from 'node:fs';
import { httpJson } from '../lib/http';
import { sleep } from '../lib/service';
import { pacedRun } from '../load';
import type { MonthService } from './service';
import { writer } from './service';

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

function split(rows: { at: number; ms: number; status: number }[]): LatencySplit {
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

export async function archiveUnderLoad(
  m: MonthService,
  o: {
    day: string;
    before: string;
    rate: number;
    loadSeconds: number;
    startAfterS: number;
    traceFile: string;
  },
  log: (s: string) => void,
): Promise<ArchiveUnderLoad> {
  const { token } = await writer(m, 'month archive-load');
  log(
    `load: ${o.rate} single events/s for ${o.loadSeconds} s; the pass (before ${o.before}) after ${o.startAfterS} s`,
  );
  const load = pacedRun({
    base: m.base,
    path: '/v1/events',
    token,
    kind: 'single',
    rate: o.rate,
    seconds: o.loadSeconds,
    traceFile: o.traceFile,
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
  const r = await load;
  const rows = readFileSync(o.traceFile, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [at, ms, status] = line.split(',').map(Number);
      return { at, ms, status };
    });
  const lastScheduled = rows.length ? rows[rows.length - 1].at : 0;
  return {
    day: o.day,
    before: o.before,
    rate: o.rate,
    load_seconds: o.loadSeconds,
    pass_seconds: Math.round((t1 - t0) / 100) / 10,
    pass_status: pass.status,
    pass_result: pass.body,
    during_pass: split(rows.filter((x) => x.at >= t0 && x.at <= t1)),
    outside_pass: split(rows.filter((x) => x.at < t0 || x.at > t1)),
    whole_load: {
      requests: r.requests,
      ok2xx: r.ok2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      p50: r.latency.p50,
      p99: r.latency.p99,
    },
    pass_covered_by_load: lastScheduled >= t1,
  };
}
