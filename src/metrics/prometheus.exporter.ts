import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MetricsService, type StorageTierFigures } from './metrics.service';
import { JOB_STATES, QueueStats, type QueueSnapshot } from './queue-stats.service';

/**
 * Bounds of prom-client's GC pause histogram (nodejs_gc_duration_seconds): finer than its default
 * (1 ms, 10 ms, 100 ms, 1 s…) where the pauses that show in request latency fall.
 */
const GC_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

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
  {
    key: 'archivePasses',
    name: 'the_eye_archive_passes_total',
    help: 'Archive/retention passes this process ran to the end.',
  },
  {
    key: 'archivePassFailures',
    name: 'the_eye_archive_pass_failures_total',
    help: 'Archive/retention passes that failed in this process (the next one resumes the work).',
  },
  {
    key: 'archivedEvents',
    name: 'the_eye_archived_events_total',
    help: 'Events this process moved from PostgreSQL to the Parquet archive.',
  },
  {
    key: 'archivedBytes',
    name: 'the_eye_archived_bytes_total',
    help: 'Bytes of the Parquet files this process wrote to the archive.',
  },
];

/**
 * GET /metrics through prom-client: this process's counters (MetricsService), queue gauges read
 * from Redis at scrape time (shared by every process, NaN while Redis does not answer within a
 * second), and prom-client's default process and Node.js metrics (event-loop lag since the previous
 * scrape, GC pauses by kind). One registry per application instance (not prom-client's global one), so two
 * apps in one process (the e2e tests) do not collide.
 *
 * The hot paths keep incrementing plain numbers (MetricsService.counters): the counters here add
 * the difference at scrape time, so ingesting an event costs no label lookup.
 */
@Injectable()
export class PrometheusExporter {
  readonly registry = new Registry();
  private redisSnapshot: Promise<QueueSnapshot> | undefined;

  constructor(
    metrics: MetricsService,
    private readonly queueStats: QueueStats,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, gcDurationBuckets: GC_BUCKETS });
    for (const { key, name, help } of COUNTERS) {
      let reported = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = metrics.counters[key];
          this.inc(now - reported);
          reported = now;
        },
      });
    }
    const snapshot = (): Promise<QueueSnapshot> => (this.redisSnapshot ??= this.queueStats.read());
    new Gauge({
      name: 'the_eye_redis_up',
      help: 'Whether Redis answered this scrape (1) or not (0).',
      registers,
      collect: async function () {
        this.set((await snapshot()).backlog === null ? 0 : 1);
      },
    });
    new Gauge({
      name: 'the_eye_queue_backlog_events',
      help: 'Events queued and not yet stored or quarantined, all processes (the 429 limit applies to it).',
      registers,
      collect: async function () {
        this.set((await snapshot()).backlog ?? NaN);
      },
    });
    new Gauge({
      name: 'the_eye_queue_jobs',
      help: 'Queue jobs by state, all processes (one job carries the events of one or more requests).',
      labelNames: ['state'],
      registers,
      collect: async function () {
        const counts = (await snapshot()).jobs;
        for (const state of JOB_STATES) this.set({ state }, counts?.[state] ?? NaN);
      },
    });
    new Gauge({
      name: 'the_eye_queue_oldest_waiting_job_age_seconds',
      help: 'Age of the oldest job waiting in the queue, all processes (0 when none waits).',
      registers,
      collect: async function () {
        this.set((await snapshot()).oldestWaitingAgeSeconds ?? NaN);
      },
    });
    new Gauge({
      name: 'the_eye_processing_lag_seconds',
      help: 'Seconds from received_at to commit for the last job stored by this process (0 before the first).',
      registers,
      collect() {
        this.set(metrics.lastProcessingLagSeconds);
      },
    });
    let tiers: Promise<StorageTierFigures[]> | undefined;
    const storage = (): Promise<StorageTierFigures[]> =>
      (tiers ??= (metrics.storageTiers?.() ?? Promise.resolve([]))
        .catch(() => [])
        .finally(() => setImmediate(() => (tiers = undefined))));
    for (const [key, name, help] of [
      [
        'days',
        'the_eye_storage_days',
        'UTC days held by each storage tier (hot: PostgreSQL partitions; archive: Parquet).',
      ],
      ['events', 'the_eye_storage_events', "Events held by each storage tier (hot: PostgreSQL's estimate)."],
      ['bytes', 'the_eye_storage_bytes', 'Bytes on disk of each storage tier.'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['tier'],
        registers,
        collect: async function () {
          for (const t of await storage()) this.set({ tier: t.tier }, t[key]);
        },
      });
    }
    new Gauge({
      name: 'the_eye_info',
      help: 'Constant 1, labelled with the role of this process.',
      labelNames: ['role'],
      registers,
    }).set({ role: config.role }, 1);
  }

  /** One scrape: the Redis reads happen once, shared by the gauges that need them. */
  async render(): Promise<string> {
    try {
      return await this.registry.metrics();
    } finally {
      this.redisSnapshot = undefined;
    }
  }
}
