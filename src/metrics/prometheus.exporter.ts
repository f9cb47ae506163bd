import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { EVENTS_QUEUE, QUEUED_EVENTS_KEY } from '../queue/queue.contract';
import { REDIS } from '../redis/redis.module';
import { MetricsService } from './metrics.service';
import { RuntimeStats } from './runtime-stats';
import { withTimeout } from '../common/with-timeout';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Longest a scrape waits for Redis: the answer comes within ~1 s even while Redis hangs. */
const REDIS_TIMEOUT_MS = 1_000;
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

interface Sample {
  labels?: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

const COUNTERS: { key: keyof MetricsService['counters']; name: string; help: string }[] = [
  {
    key: 'eventsAccepted',
    name: 'the_eye_events_accepted_total',
    help: 'Events accepted (answered 202) by this process.',
  },
  {
    key: 'eventsRefused',
    name: 'the_eye_events_refused_total',
    help: "Events refused by this process's request checks.",
  },
  {
    key: 'eventsStored',
    name: 'the_eye_events_stored_total',
    help: "Events stored (new rows) by this process's worker.",
  },
  {
    key: 'eventsDuplicate',
    name: 'the_eye_events_duplicate_total',
    help: "Duplicate events skipped by this process's worker.",
  },
  {
    key: 'eventsQuarantined',
    name: 'the_eye_events_quarantined_total',
    help: "Events quarantined by this process's worker.",
  },
  {
    key: 'jobsCompleted',
    name: 'the_eye_jobs_completed_total',
    help: "Queue jobs completed by this process's worker.",
  },
  {
    key: 'jobsFailed',
    name: 'the_eye_jobs_failed_total',
    help: "Queue job attempts that failed in this process's worker.",
  },
];

/**
 * Renders GET /metrics: this process's counters (MetricsService), queue gauges read from Redis
 * (shared by every process, NaN while Redis does not answer), and process memory/CPU.
 */
@Injectable()
export class PrometheusExporter {
  constructor(
    private readonly metrics: MetricsService,
    private readonly runtime: RuntimeStats,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async render(): Promise<string> {
    const [backlog, jobCounts, oldestAge] = await Promise.all([
      withTimeout(this.redis.hlen(QUEUED_EVENTS_KEY), REDIS_TIMEOUT_MS).catch(() => NaN),
      this.queueReady()
        ? withTimeout(this.queue.getJobCounts(), REDIS_TIMEOUT_MS).catch(() => undefined)
        : undefined,
      this.queueReady()
        ? withTimeout(this.oldestWaitingJobAgeSeconds(), REDIS_TIMEOUT_MS).catch(() => NaN)
        : NaN,
    ]);
    return renderFamilies([
      ...COUNTERS.map(({ key, name, help }) => counter(name, help, this.metrics.counters[key])),
      gauge(
        'the_eye_redis_up',
        'Whether Redis answered this scrape (1) or not (0).',
        Number.isNaN(backlog) ? 0 : 1,
      ),
      gauge(
        'the_eye_queue_backlog_events',
        'Events queued and not yet stored or quarantined, all processes (the 429 limit applies to it).',
        backlog,
      ),
      {
        name: 'the_eye_queue_jobs',
        help: 'Queue jobs by state, all processes (one job carries the events of one or more requests).',
        type: 'gauge',
        samples: JOB_STATES.map((state) => ({ labels: { state }, value: jobCounts?.[state] ?? NaN })),
      },
      gauge(
        'the_eye_processing_lag_seconds',
        'Seconds from received_at to commit for the last job stored by this process (0 before the first).',
        this.metrics.lastProcessingLagSeconds,
      ),
      gauge(
        'the_eye_queue_oldest_waiting_job_age_seconds',
        'Age of the oldest job waiting in the queue, all processes (0 when none waits).',
        oldestAge,
      ),
      {
        name: 'the_eye_info',
        help: 'Constant 1, labelled with the role of this process.',
        type: 'gauge',
        samples: [{ labels: { role: this.config.role }, value: 1 }],
      },
      ...processFamilies(),
      ...this.runtimeFamilies(),
    ]);
  }

  private runtimeFamilies(): Family[] {
    const w = this.runtime.takeWindow();
    return [
      {
        name: 'nodejs_eventloop_delay_seconds',
        help: 'Event-loop delay since the previous scrape: how late this process ran its callbacks.',
        type: 'gauge',
        samples: [
          { labels: { quantile: '0.5' }, value: w.loopDelay.p50 },
          { labels: { quantile: '0.99' }, value: w.loopDelay.p99 },
          { labels: { quantile: '1' }, value: w.loopDelay.max },
        ],
      },
      gauge(
        'nodejs_gc_max_pause_seconds',
        'Longest garbage-collection pause since the previous scrape.',
        w.gcMaxPause,
      ),
      {
        name: 'nodejs_gc_pause_seconds_total',
        help: 'Garbage-collection pause time by kind since the process started.',
        type: 'counter',
        samples: Object.entries(this.runtime.gcSeconds).map(([kind, value]) => ({ labels: { kind }, value })),
      },
    ];
  }

  private queueReady(): boolean {
    return this.queue.client.status === 'ready';
  }

  private async oldestWaitingJobAgeSeconds(): Promise<number> {
    const [oldest] = await this.queue.getWaiting(0, 0);
    if (!oldest) return 0;
    return Math.max(0, (Date.now() - oldest.timestamp) / 1000);
  }
}

function counter(name: string, help: string, value: number): Family {
  return { name, help, type: 'counter', samples: [{ value }] };
}

function gauge(name: string, help: string, value: number): Family {
  return { name, help, type: 'gauge', samples: [{ value }] };
}

function processFamilies(): Family[] {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return [
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss),
    counter('process_cpu_user_seconds_total', 'User CPU time spent in seconds.', cpu.user / 1e6),
    counter('process_cpu_system_seconds_total', 'System CPU time spent in seconds.', cpu.system / 1e6),
    gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      Math.round(Date.now() / 1000 - process.uptime()),
    ),
    gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', mem.heapTotal),
    gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', mem.heapUsed),
    gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', mem.external),
  ];
}

/** Prometheus text exposition format 0.0.4. */
export function renderFamilies(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${f.name}${renderLabels(s.labels)} ${renderValue(s.value)}`);
  }
  return lines.join('\n') + '\n';
}

function renderLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${parts.join(',')}}`;
}

function renderValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
