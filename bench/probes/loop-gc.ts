/**
 * Benchmark probe, loaded into the service with
 * `BENCH_NODE_FLAGS="--require ./bench/probes/loop-gc.ts" npm run bench`: records every
 * event-loop stall over 3 ms (a 2 ms interval timer that ran late) and every GC pause over 3 ms
 * (perf_hooks 'gc' entries; kind 1 = scavenge, 4 = mark-compact, 8 = incremental marking), with
 * epoch times, and writes `bench/results/probe-loop-gc.csv` ("type,epoch ms,ms,kind") when the
 * service exits. Lined up with the generator's trace (BENCH_TRACE=1) it shows which stalls the slow
 * acks sat through.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

const TICK_MS = 2;
const lines: string[] = ['type,epoch_ms,ms,kind'];
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const late = now - last - TICK_MS;
  if (late > 3) lines.push(`loop,${(performance.timeOrigin + last).toFixed(1)},${late.toFixed(1)},`);
  last = now;
}, TICK_MS).unref();
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if (e.duration > 3)
      lines.push(
        `gc,${(performance.timeOrigin + e.startTime).toFixed(1)},${e.duration.toFixed(1)},${(e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? ''}`,
      );
}).observe({ entryTypes: ['gc'] });
process.on('exit', () => {
  writeFileSync(join(process.cwd(), 'bench/results', 'probe-loop-gc.csv'), lines.join('\n') + '\n');
});
