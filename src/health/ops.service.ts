import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { QueueStats } from '../metrics/queue-stats.service';
import type { OpsOverviewDto } from './ops.dto';

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
 * exports (the same QueueStats reads), as JSON, and ingestion rates from this process's counters measured between reads (no
 * timer and nothing on the event hot path: each read keeps a sample).
 */
@Injectable()
export class OpsService {
  private samples: Sample[] = [];

  constructor(
    private readonly metrics: MetricsService,
    private readonly queueStats: QueueStats,
  ) {}

  async overview(): Promise<OpsOverviewDto> {
    const { backlog, jobs, oldestWaitingAgeSeconds } = await this.queueStats.read();
    return {
      generated_at: new Date().toISOString(),
      redis: backlog === null ? 'down' : 'up',
      queue: {
        waiting: jobs?.waiting ?? null,
        active: jobs?.active ?? null,
        delayed: jobs?.delayed ?? null,
        failed: jobs?.failed ?? null,
      },
      backlog_events: backlog,
      oldest_waiting_job_age_seconds: oldestWaitingAgeSeconds,
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
}
