// One measured phase: the load (ceiling or fixed rate), the drain, the counts and the resources used.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { OUT_DIR, cfg, hrUs, log, round } from './config';
import { track, stopChild } from './lib/service';
import { cpuDelta, cpuSnapshot, machineCpu, procCpuSec } from './lib/proc';
import { autocannonRun, pacedHttpRun, pacedRun } from './load';
import { makePayloads } from './payloads';
import {
  type BenchContext,
  type ServiceStalls,
  countRows,
  queueState,
  serviceStalls,
  startSampler,
  truncateTables,
  waitDrain,
} from './sampling';

export const payloads = makePayloads({ ids: cfg.ids, batchSize: cfg.batchSize, batchData: cfg.batchData });
const { singleBody, batchBody, segmentBatchBody } = payloads;

export type Endpoint = 'single' | 'batch' | 'segment-batch';

/** A service phase's figures as written to results/latest.json (snake case, as before). */
export interface PhaseResult {
  name: string;
  endpoint: string;
  tool: string;
  connections?: number;
  offered_events_per_s?: number;
  offered_req_per_s?: number;
  duration_s: number | null;
  requests: number;
  status_codes: Record<string, number>;
  non2xx_excluding_429: number;
  status_429: number;
  errors: number;
  timeouts: number;
  error_kinds?: Record<string, number>;
  acked_req_per_s: number | null;
  acked_events_per_s: number;
  latency_ms: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  backlog_at_start: number;
  backlog_at_load_end: number;
  backlog_peak: number;
  drained: boolean;
  drain_note?: string;
  drain_s_after_load: number | null;
  rows_stored: number;
  rows_rejected: number;
  failed_jobs: number;
  acked_events: number;
  missing_events: number;
  stored_not_acked: number;
  stored_not_acked_bound: number;
  persisted_events_per_s: number;
  rss_peak_mb: number | null;
  redis_used_memory_mb: { start: number | null; peak: number | null };
  cpu_s: {
    service: number | null;
    postgres: number | null;
    redis: number | null;
    load_generator: number | null;
    machine_total: number | null;
    steal: number | null;
    other?: number | null;
  };
  service_event_loop: Omit<ServiceStalls, 'gcBuckets' | 'gcTotalS'> | null;
  generator_send_lag_ms?: { p99: number | null; max: number | null };
  window_s: number | null;
  window_hr_us?: [number, number];
  generator_cpu_us_per_request?: number | null;
  service_cpu_us_per_event?: number | null;
  ceiling_events_per_s?: number;
  vs_baseline?: { acked_req: number | null; acked_events: number | null; persisted_events: number | null };
}

export interface BaselineResult {
  name: 'baseline';
  tool: string;
  connections: number;
  duration_s: number | null;
  requests: number;
  acked_req_per_s: number;
  latency_ms: { p50: number | null; p99: number | null };
  non2xx: number;
  errors: number;
  timeouts: number;
  server_cpu_us_per_request: number | null;
}

/**
 * One measured phase against the service: load, then (ceiling and rate runs alike) wait for the drain,
 * count rows, truncate.
 */
export async function servicePhase(
  ctx: BenchContext,
  name: string,
  { endpoint, connections, rate }: { endpoint: Endpoint; connections: number; rate?: number },
): Promise<PhaseResult> {
  const segment = endpoint === 'segment-batch';
  const batch = endpoint === 'batch' || segment;
  const p = segment ? '/v1/batch' : batch ? '/v1/events/batch' : '/v1/events';
  const bodyFn = segment ? () => segmentBatchBody() : batch ? () => batchBody() : singleBody;
  const perReq = batch ? cfg.batchSize : 1;
  if (segment && rate) throw new Error('segment-batch is a ceiling phase only');
  const before = await queueState(ctx.redis);
  const cpu0 = {
    svc: ctx.pid ? procCpuSec(ctx.pid) : null,
    procs: cpuSnapshot(ctx.dbName),
    self: process.cpuUsage(),
    machine: machineCpu(),
  };
  const sampler = startSampler(ctx);
  const stallsAtStart = await serviceStalls(ctx);
  const reqRate = rate ? Math.max(1, Math.round(rate / perReq)) : undefined;
  log(
    `${name}: ${rate ? `${rate} events/s offered (${reqRate} req/s, ${cfg.rateTool})` : `${connections} connections`} for ${cfg.seconds}s`,
  );
  const tStart = performance.now();
  const hrStart = hrUs();
  const r =
    rate && reqRate && cfg.rateTool === 'paced'
      ? await pacedRun({
          base: ctx.base,
          path: p,
          token: ctx.token,
          kind: batch ? 'batch' : 'single',
          rate: reqRate,
          seconds: cfg.seconds,
          traceFile: cfg.trace ? join(OUT_DIR, `trace-${name}.csv`) : undefined,
        })
      : rate && reqRate && cfg.rateTool === 'paced-http'
        ? await pacedHttpRun({
            base: ctx.base,
            path: p,
            token: ctx.token,
            bodyFn,
            rate: reqRate,
            seconds: cfg.seconds,
          })
        : await autocannonRun({
            base: ctx.base,
            path: p,
            token: ctx.token,
            authorization: segment ? ctx.segmentAuth : undefined,
            bodyFn,
            connections: rate && reqRate ? Math.min(connections, reqRate) : connections,
            seconds: cfg.seconds,
            overallRate: reqRate,
          });
  const tLoadEnd = performance.now();
  const hrEnd = hrUs();
  const fullStalls = await serviceStalls(ctx, stallsAtStart);
  const stalls = fullStalls && {
    event_loop_delay_ms: fullStalls.event_loop_delay_ms,
    gc_max_pause_ms: fullStalls.gc_max_pause_ms,
    gc_pause_ms: fullStalls.gc_pause_ms,
  };
  const atLoadEnd = await queueState(ctx.redis);
  const drain = await waitDrain(ctx, tStart);
  const mem = await sampler.stop();
  const rows = await (ctx.rows?.count ?? countRows)(ctx.pg);
  const cpu1 = {
    svc: ctx.pid ? procCpuSec(ctx.pid) : null,
    self: process.cpuUsage(cpu0.self),
    machine: machineCpu(),
  };
  const stores = cpuDelta(cpu0.procs, cpuSnapshot(ctx.dbName));
  const persistSeconds = (drain.tDrainMs - tStart) / 1000;
  const acked = r.ok2xx * perReq;
  const status429 = r.codes['429'] || 0;
  const non2xx = r.requests - r.ok2xx;
  const res: PhaseResult = {
    name,
    endpoint: p,
    tool: r.tool,
    connections: rate ? undefined : connections,
    offered_events_per_s: rate || undefined,
    offered_req_per_s: reqRate,
    duration_s: round(r.durationS, 2),
    requests: r.requests,
    status_codes: r.codes,
    non2xx_excluding_429: non2xx - status429,
    status_429: status429,
    errors: r.errors,
    timeouts: r.timeouts,
    error_kinds: r.error_kinds && Object.keys(r.error_kinds).length ? r.error_kinds : undefined,
    acked_req_per_s: round(r.ok2xx / r.durationS),
    acked_events_per_s: round(acked / r.durationS) ?? 0,
    latency_ms: {
      p50: round(r.latency.p50, 2),
      p90: round(r.latency.p90, 2),
      p99: round(r.latency.p99, 2),
      max: round(r.latency.max, 2),
    },
    backlog_at_start: before.hlen,
    backlog_at_load_end: atLoadEnd.hlen,
    backlog_peak: mem.hlenMax,
    drained: drain.drained,
    drain_note: drain.note || undefined,
    drain_s_after_load: round((drain.tDrainMs - tLoadEnd) / 1000, 2),
    rows_stored: rows.events,
    rows_rejected: rows.rejected,
    failed_jobs: drain.failedJobs,
    acked_events: acked,
    // Acked but neither stored nor quarantined: must be 0.
    missing_events: Math.max(0, acked - rows.events - rows.rejected),
    // Stored without an ack: requests autocannon abandoned in flight when the phase ended (at most
    // connections x events per request); more than that would mean duplicates.
    stored_not_acked: Math.max(0, rows.events + rows.rejected - acked),
    // (paced runs wait for every answer: only requests that timed out or failed can be stored unacked.)
    stored_not_acked_bound:
      ((rate && cfg.rateTool.startsWith('paced') ? 0 : rate ? Math.min(connections, reqRate!) : connections) +
        r.errors +
        r.timeouts) *
      perReq,
    persisted_events_per_s: round(rows.events / persistSeconds) ?? 0,
    rss_peak_mb: ctx.pid ? round(mem.rssMaxMb, 1) : null,
    redis_used_memory_mb: { start: round(mem.redisStartMb, 1), peak: round(mem.redisMaxMb, 1) },
    cpu_s: {
      service: cpu1.svc !== null && cpu0.svc !== null ? round(cpu1.svc - cpu0.svc, 2) : null,
      postgres: round(stores.postgres, 2),
      redis: round(stores.redis, 2),
      // This process (autocannon, paced-http, sampling) plus the paced child generator, if any.
      load_generator: round((cpu1.self.user + cpu1.self.system) / 1e6 + (r.cpuS || 0), 2),
      machine_total:
        cpu1.machine.busy !== null && cpu0.machine.busy !== null
          ? round(cpu1.machine.busy - cpu0.machine.busy, 2)
          : null,
      // Included in machine_total: CPU time taken by the hypervisor for other VMs.
      steal:
        cpu1.machine.steal !== null && cpu0.machine.steal !== null
          ? round(cpu1.machine.steal - cpu0.machine.steal, 2)
          : null,
    },
    // Over the load (not the drain): how late the service's event loop ran, its longest GC pause.
    service_event_loop: stalls,
    // Paced runs: how late the generator sent requests (included in the latency, which is measured from
    // the scheduled time).
    generator_send_lag_ms: r.send_lag
      ? { p99: round(r.send_lag.p99, 2), max: round(r.send_lag.max, 2) }
      : undefined,
    window_s: round((drain.tDrainMs - tStart) / 1000, 2),
    window_hr_us: [hrStart, hrEnd],
  };
  const c = res.cpu_s;
  // CPU used by everything else on the machine meanwhile (other work sharing the cores): noise indicator.
  c.other = round(
    (c.machine_total ?? NaN) -
      (c.steal || 0) -
      (c.service || 0) -
      (c.postgres ?? 0) -
      (c.redis ?? 0) -
      (c.load_generator ?? 0),
    2,
  );
  // All load-generator CPU (this process's sampling included) per request sent: compares the tools.
  res.generator_cpu_us_per_request =
    r.requests > 0 ? round(((c.load_generator ?? 0) * 1e6) / r.requests) : null;
  res.service_cpu_us_per_event =
    c.service !== null && rows.events > 0 ? round((c.service * 1e6) / rows.events) : null;
  log(
    `${name}: acked ${res.acked_events_per_s} ev/s (${res.acked_req_per_s} req/s) p50 ${res.latency_ms.p50} ms p99 ${res.latency_ms.p99} ms; ` +
      `stored ${rows.events}/${acked} → ${res.persisted_events_per_s} ev/s${drain.drained ? '' : ' (NOT DRAINED)'}; ` +
      `non2xx ${res.non2xx_excluding_429} 429 ${status429} err ${r.errors}; backlog@end ${atLoadEnd.hlen}; rss ${res.rss_peak_mb} MB` +
      (stalls
        ? `; loop delay p99/max ${stalls.event_loop_delay_ms.p99}/${stalls.event_loop_delay_ms.max} ms, GC max ≤ ${stalls.gc_max_pause_ms} ms`
        : '') +
      (res.generator_send_lag_ms
        ? `; generator send lag p99/max ${res.generator_send_lag_ms.p99}/${res.generator_send_lag_ms.max} ms`
        : '') +
      (c.steal !== null ? `; steal ${c.steal} s` : ''),
  );
  if (drain.note) log(`${name}: ${drain.note}`);
  await (ctx.rows?.reset ?? truncateTables)(ctx.pg);
  return res;
}

export async function baselinePhase(ctx: BenchContext): Promise<BaselineResult> {
  const code = `
    const http = require('node:http');
    const reply = '{"id":"00000000-0000-7000-8000-000000000000","status":"queued"}';
    const s = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => { res.writeHead(202, { 'content-type': 'application/json' }); res.end(reply); });
    });
    s.keepAliveTimeout = 65000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = track(spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', (c) => reject(new Error(`baseline server exited ${c}`)));
  });
  try {
    log(`baseline: bare node:http on :${port}, ${cfg.connections} connections for ${cfg.seconds}s`);
    const cpu0 = procCpuSec(child.pid!);
    const r = await autocannonRun({
      base: `http://127.0.0.1:${port}`,
      path: '/v1/events',
      token: ctx.token,
      bodyFn: singleBody,
      connections: cfg.connections,
      seconds: cfg.seconds,
    });
    const cpu = (procCpuSec(child.pid!) ?? NaN) - (cpu0 ?? NaN);
    const res: BaselineResult = {
      name: 'baseline',
      tool: r.tool,
      connections: cfg.connections,
      duration_s: round(r.durationS, 2),
      requests: r.requests,
      acked_req_per_s: round(r.ok2xx / r.durationS) ?? 0,
      latency_ms: { p50: round(r.latency.p50, 2), p99: round(r.latency.p99, 2) },
      non2xx: r.requests - r.ok2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      server_cpu_us_per_request: round((cpu * 1e6) / r.ok2xx, 1),
    };
    log(
      `baseline: ${res.acked_req_per_s} req/s, p99 ${res.latency_ms.p99} ms, ${res.server_cpu_us_per_request} µs CPU/req`,
    );
    return res;
  } finally {
    await stopChild(child, 'SIGTERM', 3000);
  }
}
