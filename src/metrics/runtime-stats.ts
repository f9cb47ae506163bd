import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { constants, createHistogram, performance, PerformanceObserver } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export interface RuntimeWindow {
  /** Event-loop delay quantiles (seconds) since the previous window. */
  loopDelay: { p50: number; p99: number; max: number };
  /** Longest single GC pause (seconds) since the previous window. */
  gcMaxPause: number;
}

/** How often the event-loop delay is sampled. */
const SAMPLE_MS = 10;

/**
 * What stalls this process's event loop, for /metrics: the event-loop delay (how late timers
 * fire: every request in the process waits that long) and garbage-collection pauses. Delay
 * quantiles and the longest pause cover the time since the previous scrape (prom-client does the
 * same); GC time per kind is a counter since start.
 */
@Injectable()
export class RuntimeStats implements OnModuleInit, OnModuleDestroy {
  /**
   * Lateness of a SAMPLE_MS timer, in ns. Not monitorEventLoopDelay(): its reset() also forgets
   * the previous tick, so a stall that starts right after a scrape was never counted.
   */
  private readonly loop = createHistogram();
  private lastTick = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const seconds = entry.duration / 1000;
      const detail = (entry as { detail?: { kind?: number } }).detail;
      const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
      this.gcSeconds[kind] = (this.gcSeconds[kind] ?? 0) + seconds;
      if (seconds > this.gcMaxPause) this.gcMaxPause = seconds;
    }
  });
  /** GC pause seconds by kind since start. */
  readonly gcSeconds: Record<string, number> = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
  private gcMaxPause = 0;

  onModuleInit(): void {
    this.lastTick = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.loop.record(Math.max(1, Math.round((now - this.lastTick - SAMPLE_MS) * 1e6)));
      this.lastTick = now;
    }, SAMPLE_MS);
    this.timer.unref();
    this.observer.observe({ entryTypes: ['gc'] });
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.observer.disconnect();
  }

  /** The delay quantiles and longest GC pause since the previous call; starts a new window. */
  takeWindow(): RuntimeWindow {
    const empty = this.loop.count === 0;
    const seconds = (ns: number): number => (empty ? 0 : ns / 1e9);
    const window: RuntimeWindow = {
      loopDelay: {
        p50: seconds(this.loop.percentile(50)),
        p99: seconds(this.loop.percentile(99)),
        max: seconds(this.loop.max),
      },
      gcMaxPause: this.gcMaxPause,
    };
    this.loop.reset();
    this.gcMaxPause = 0;
    return window;
  }

  /**
   * Exposes the windows on a registry: the delay quantiles and the longest GC pause cover the time
   * since the previous scrape (one window per scrape, taken by the first gauge collected), GC time
   * per kind is a counter since start.
   */
  register(registry: Registry): void {
    const registers = [registry];
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the metric as `this`
    const runtime = this;
    let window: RuntimeWindow | undefined;
    new Gauge({
      name: 'nodejs_eventloop_delay_seconds',
      help: 'Event-loop delay since the previous scrape: how late this process ran its callbacks.',
      labelNames: ['quantile'],
      registers,
      collect() {
        window = runtime.takeWindow();
        this.set({ quantile: '0.5' }, window.loopDelay.p50);
        this.set({ quantile: '0.99' }, window.loopDelay.p99);
        this.set({ quantile: '1' }, window.loopDelay.max);
      },
    });
    new Gauge({
      name: 'nodejs_gc_max_pause_seconds',
      help: 'Longest garbage-collection pause since the previous scrape.',
      registers,
      collect() {
        this.set(window?.gcMaxPause ?? 0);
      },
    });
    const reported: Record<string, number> = {};
    new Counter({
      name: 'nodejs_gc_pause_seconds_total',
      help: 'Garbage-collection pause time by kind since the process started.',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, seconds] of Object.entries(runtime.gcSeconds)) {
          this.inc({ kind }, seconds - (reported[kind] ?? 0));
          reported[kind] = seconds;
        }
      },
    });
  }
}
