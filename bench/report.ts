// The run's report: results/latest.md (a table per phase, the issue 5 targets) from latest.json.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { ALL_PHASES, type PhaseName, round } from './config';
import { ROOT } from './lib/service';
import type { BaselineResult, PhaseResult } from './phases';
import type { ProfileSummary } from './profile';
import type { RawCopyResult } from './raw-copy';

export interface Check {
  target: string;
  ok: boolean;
  value: string;
}

export interface BenchResult {
  date: string;
  command: string;
  config: Record<string, unknown>;
  machine: { cpus: number; cpu_model: string | undefined; node: string; loadavg_at_start: (number | null)[] };
  git: { commit: string; dirty: boolean | null };
  target: string;
  phases: { baseline?: BaselineResult; 'raw-copy'?: RawCopyResult } & Partial<
    Record<Exclude<PhaseName, 'baseline' | 'raw-copy'>, PhaseResult>
  >;
  checks: Check[];
  service_rss_hwm_mb?: number | null;
  profile?: ProfileSummary;
}

/** The phases measured against the service (all but the bare node:http baseline). */
export function servicePhases(phases: BenchResult['phases']): PhaseResult[] {
  return Object.values(phases).filter(
    (r): r is PhaseResult => r !== undefined && r.name !== 'baseline' && r.name !== 'raw-copy',
  );
}

export function markdown(result: BenchResult): string {
  const b = result.phases.baseline;
  const f = (x: number | null | undefined, d = 0): string =>
    x === null || x === undefined ? '—' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d });
  const rows = [
    '| phase | offered | acked req/s | acked events/s | persisted events/s | ack p50 / p99 ms | vs baseline acked / persisted | non-2xx / 429 / err | backlog@end | RSS MB | Redis MB |',
    '|---|---|---:|---:|---:|---|---:|---|---:|---:|---:|',
  ];
  if (b)
    rows.push(
      `| baseline node:http | ${b.connections} conn | ${f(b.acked_req_per_s)} | — | — | ${f(b.latency_ms.p50, 2)} / ${f(b.latency_ms.p99, 2)} | 1.00 | ${b.non2xx} / 0 / ${b.errors + (b.timeouts || 0)} | — | — | — |`,
    );
  for (const name of ALL_PHASES.slice(1)) {
    if (name === 'raw-copy') continue;
    const r = result.phases[name] as PhaseResult | undefined;
    if (!r) continue;
    const offered = r.offered_events_per_s ? `${f(r.offered_events_per_s)} ev/s` : `${r.connections} conn`;
    const ratio = b
      ? `${(r.acked_events_per_s / b.acked_req_per_s).toFixed(2)} / ${(r.persisted_events_per_s / b.acked_req_per_s).toFixed(2)}`
      : '—';
    rows.push(
      `| ${name} | ${offered} | ${f(r.acked_req_per_s)} | ${f(r.acked_events_per_s)} | ${f(r.persisted_events_per_s)}${r.drained ? '' : ' (not drained)'} | ` +
        `${f(r.latency_ms.p50, 2)} / ${f(r.latency_ms.p99, 2)} | ${ratio} | ${r.non2xx_excluding_429} / ${r.status_429} / ${r.errors + r.timeouts} | ` +
        `${f(r.backlog_at_load_end)} | ${f(r.rss_peak_mb)} | ${f(r.redis_used_memory_mb.peak, 1)} |`,
    );
  }
  const lines = [
    `${result.date} — \`${result.command}\` — ${result.machine.cpus}× ${result.machine.cpu_model}, Node ${result.machine.node}, commit ${result.git.commit}${result.git.dirty ? ' (dirty)' : ''}`,
    '',
    ...rows,
  ];
  const raw = result.phases['raw-copy'];
  if (raw) {
    const batch = result.phases.batch;
    lines.push(
      '',
      `Raw COPY of ${f(raw.events)} events into a scratch copy of events with its indexes (one stream, service idle): ` +
        `${f(raw.events_per_s)} events/s` +
        (batch && raw.events_per_s
          ? `; batch persisted ${f(batch.persisted_events_per_s)} events/s = ${(batch.persisted_events_per_s / raw.events_per_s).toFixed(2)} of it.`
          : '.'),
    );
    if (raw.store_events_per_s && raw.events_per_s)
      lines.push(
        '',
        `Where the time goes: the worker's statement alone (ledger, day partition, sessions, per-minute counts; ` +
          `called directly, two in flight) stores ${f(raw.store_events_per_s)} events/s = ` +
          `${(raw.store_events_per_s / raw.events_per_s).toFixed(2)} of raw COPY` +
          (batch
            ? `; the whole pipeline (HTTP, checks, Redis and Bull, validation, sharing the cores with the API) ` +
              `persists ${(batch.persisted_events_per_s / raw.store_events_per_s).toFixed(2)} of that.`
            : '.'),
      );
  }
  if (result.service_rss_hwm_mb)
    lines.push('', `Service peak RSS (VmHWM, whole run): ${f(result.service_rss_hwm_mb)} MB.`);
  if (result.checks.length)
    lines.push(
      '',
      'Issue 5 targets:',
      ...result.checks.map((c) => `- ${c.ok ? 'PASS' : 'FAIL'} ${c.target}: ${c.value}`),
    );
  lines.push(
    '',
    '"vs baseline" = events/s (acked, persisted) ÷ bare node:http req/s. Persisted = rows / (drain time − load start). ' +
      'Fixed-rate rows: latency measured from the scheduled send time (open loop).',
  );
  const other = servicePhases(result.phases)
    .map((r) => (r.cpu_s && r.window_s ? (r.cpu_s.other ?? NaN) / r.window_s : null))
    .filter((x): x is number => x !== null);
  const steal = servicePhases(result.phases)
    .map((r) => (r.cpu_s && r.cpu_s.steal !== null && r.window_s ? r.cpu_s.steal / r.window_s : null))
    .filter((x): x is number => x !== null);
  if (other.length)
    lines.push(
      `Other work on the machine used ${round(Math.min(...other), 2)}–${round(Math.max(...other), 2)} cores during the phases (of ${cpus().length})` +
        (steal.length
          ? `; the hypervisor took (steal) ${round(Math.min(...steal), 2)}–${round(Math.max(...steal), 2)} cores.`
          : '.'),
    );
  return lines.join('\n');
}

export function targetChecks(phases: BenchResult['phases']): Check[] {
  const c: Check[] = [];
  const add = (target: string, ok: boolean, value: string): number => c.push({ target, ok, value });
  const clean = (r: PhaseResult): boolean =>
    r.non2xx_excluding_429 === 0 && r.status_429 === 0 && r.errors === 0 && r.timeouts === 0;
  if (phases.batch)
    add(
      'batches of 100 ≥ 20,000 events/s persisted, no errors',
      phases.batch.persisted_events_per_s >= 20000 && clean(phases.batch) && phases.batch.drained,
      `${phases.batch.persisted_events_per_s} ev/s`,
    );
  const seg = phases['segment-batch'];
  if (seg && phases.batch)
    add(
      'segment-batch (POST /v1/batch) ≥ 80 % of batch, events/s persisted, no errors',
      seg.persisted_events_per_s >= 0.8 * phases.batch.persisted_events_per_s && clean(seg) && seg.drained,
      `${seg.persisted_events_per_s} ev/s = ${Math.round((100 * seg.persisted_events_per_s) / (phases.batch.persisted_events_per_s || 1))} % of batch`,
    );
  if (phases.single) {
    const s = phases.single;
    add(
      'single ≥ 2,500 events/s acked and persisted, no errors',
      s.acked_events_per_s >= 2500 && s.persisted_events_per_s >= 2500 && clean(s) && s.drained,
      `${s.acked_events_per_s} acked, ${s.persisted_events_per_s} persisted`,
    );
  }
  for (const [n, lim] of [
    ['rate1k-single', 25],
    ['rate1k-batch', 25],
    ['rate60-single', 50],
    ['rate60-batch', 50],
  ] as const) {
    const r = phases[n];
    if (r)
      add(
        `${n}: ack p99 ≤ ${lim} ms at ${r.offered_events_per_s} ev/s`,
        r.latency_ms.p99 !== null && r.latency_ms.p99 <= lim && clean(r),
        `p99 ${r.latency_ms.p99} ms`,
      );
  }
  const raw = phases['raw-copy'];
  if (raw?.events_per_s && phases.batch)
    add(
      'batch persisted ≥ 0.5 × raw COPY events/s (issue 22)',
      phases.batch.persisted_events_per_s >= 0.5 * raw.events_per_s,
      `${(phases.batch.persisted_events_per_s / raw.events_per_s).toFixed(2)} × ${raw.events_per_s} ev/s`,
    );
  const svc = servicePhases(phases);
  if (svc.length) {
    const lost = svc.reduce((a, r) => a + r.missing_events, 0);
    const dup = svc.filter((r) => r.stored_not_acked > r.stored_not_acked_bound).map((r) => r.name);
    const undrained = svc.filter((r) => !r.drained).map((r) => r.name);
    add(
      'every acked event stored, no duplicates, queue drained after each phase',
      lost === 0 && dup.length === 0 && undrained.length === 0,
      `${lost} lost${dup.length ? `; extra rows in ${dup.join(', ')}` : ''}${undrained.length ? `; not drained: ${undrained.join(', ')}` : ''}`,
    );
  }
  const rss = servicePhases(phases)
    .map((r) => r.rss_peak_mb)
    .filter((x): x is number => x !== null && x !== undefined);
  if (rss.length) add('service RSS < 300 MB', Math.max(...rss) < 300, `${Math.max(...rss)} MB`);
  return c;
}

export function gitInfo(): { commit: string; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, timeout: 10_000 })
      .toString()
      .trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, timeout: 10_000 })
        .toString()
        .trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: null };
  }
}
