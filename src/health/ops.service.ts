import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type Redis from 'ioredis';
import { withTimeout } from '../common/with-timeout';
import { MetricsService } from '../metrics/metrics.service';
import { EVENTS_QUEUE, QUEUED_EVENTS_KEY } from '../queue/queue.contract';
import { REDIS } from '../redis/redis.module';
import type { OpsOverviewDto } from './ops.dto';

/** Longest the overview waits for Redis: it answers within ~1 s even while Redis hangs. */
const REDIS_TIMEOUT_MS = 1_000;
/** Rates are measured against the oldest read within this window. */
const RATE_WINDOW_MS = 60_000;

interface Sample {
  at: number;
  accepted: number;
  stored: number;
  quarantined: number;
}

/**
 * The pipeline at a glance for the dashboard (GET /v1/ops/overview): the queue gauges GET /metrics
 * exports, as JSON, and ingestion rates from this process's counters measured between reads (no
 * timer and nothing on the event hot path: each read keeps a sample).
 */
@Injectable()
export class OpsService {
  private samples: Sample[] = [];

  constructor(
    private readonly metrics: MetricsService,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async overview(): Promise<OpsOverviewDto> {
    const queueReady = this.queue.client.status === 'ready';
    const [backlog, counts, oldest] = await Promise.all([
      withTimeout(this.redis.hlen(QUEUED_EVENTS_KEY), REDIS_TIMEOUT_MS).catch(() => null),
      queueReady ? withTimeout(this.queue.getJobCounts(), REDIS_TIMEOUT_MS).catch(() => null) : null,
      queueReady ? withTimeout(this.oldestWaitingJobAgeSeconds(), REDIS_TIMEOUT_MS).catch(() => null) : null,
    ]);
    return {
      generated_at: new Date().toISOString(),
      redis: backlog === null ? 'down' : 'up',
      queue: {
        waiting: counts?.waiting ?? null,
        active: counts?.active ?? null,
        delayed: counts?.delayed ?? null,
        failed: counts?.failed ?? null,
      },
      backlog_events: backlog,
      oldest_waiting_job_age_seconds: oldest,
      processing_lag_seconds: this.metrics.lastProcessingLagSeconds,
      ingestion: this.rates(Date.now()),
    };
  }

  private rates(now: number): OpsOverviewDto['ingestion'] {
    const c = this.metrics.counters;
    const current: Sample = {
      at: now,
      accepted: c.eventsAccepted,
      stored: c.eventsStored,
      quarantined: c.eventsQuarantined,
    };
    this.samples = this.samples.filter((s) => now - s.at <= RATE_WINDOW_MS);
    const base = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    // One sample per second at most: many dashboards polling keep a short array.
    if (!last || now - last.at >= 1_000) this.samples.push(current);
    const seconds = base ? (now - base.at) / 1000 : 0;
    if (!base || seconds < 0.5) {
      return {
        accepted_per_second: null,
        stored_per_second: null,
        quarantined_per_second: null,
        window_seconds: null,
      };
    }
    const rate = (key: 'accepted' | 'stored' | 'quarantined'): number =>
      Math.round(((current[key] - base[key]) / seconds) * 10) / 10;
    return {
      accepted_per_second: rate('accepted'),
      stored_per_second: rate('stored'),
      quarantined_per_second: rate('quarantined'),
      window_seconds: Math.round(seconds * 10) / 10,
    };
  }

  private async oldestWaitingJobAgeSeconds(): Promise<number> {
    const [oldest] = await this.queue.getWaiting(0, 0);
    if (!oldest) return 0;
    return Math.max(0, (Date.now() - oldest.timestamp) / 1000);
  }
}
