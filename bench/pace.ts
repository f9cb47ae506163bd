/**
 * Open-loop pacing shared by the benchmark's fixed-rate generators: calls `fire(scheduledTime)` `rate`
 * times per second for `seconds`, evenly spaced from now, whatever happens to the requests it starts;
 * a late timer fires every request that is due at once, with its own scheduled time (latencies are
 * measured from it). Calls `done()` after the last one.
 */

export function pace(
  rate: number,
  seconds: number,
  fire: (scheduled: number) => void,
  done: () => void,
  /** Checked at each tick: true ends the load early (the month bench stops it when the pass ends). */
  stopped: () => boolean = () => false,
): void {
  const interval = 1000 / rate;
  const end = performance.now() + seconds * 1000;
  let next = performance.now();
  const tick = () => {
    const now = performance.now();
    while (next <= now && next < end && !stopped()) {
      fire(next);
      next += interval;
    }
    if (next < end && !stopped()) setTimeout(tick, Math.min(5, Math.max(0, next - performance.now())));
    else done();
  };
  tick();
}

/**
 * The result both paced generators report: counts by status, and latency and send-lag quantiles (ms).
 * Sorts `lat` and `sendLag` in place.
 */
export interface PacedCounts {
  lat: number[];
  sendLag: number[];
  codes: Record<string, number>;
  errors: number;
  errorKinds: Record<string, number>;
  timeouts: number;
}

export interface PacedSummary {
  requests: number;
  ok2xx: number;
  codes: Record<string, number>;
  errors: number;
  error_kinds: Record<string, number>;
  timeouts: number;
  latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  send_lag: { p99: number | null; max: number | null };
}

export function summarize({ lat, sendLag, codes, errors, errorKinds, timeouts }: PacedCounts): PacedSummary {
  lat.sort((a, b) => a - b);
  sendLag.sort((a, b) => a - b);
  const q = (x: number, a = lat): number | null =>
    a.length ? a[Math.min(a.length - 1, Math.floor(x * a.length))] : null;
  return {
    requests: Object.values(codes).reduce((a, b) => a + b, 0),
    ok2xx: Object.entries(codes).reduce((a, [k, v]) => a + (k[0] === '2' ? v : 0), 0),
    codes,
    errors,
    error_kinds: errorKinds,
    timeouts,
    latency: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat.length ? lat[lat.length - 1] : null },
    send_lag: { p99: q(0.99, sendLag), max: sendLag.length ? sendLag[sendLag.length - 1] : null },
  };
}
