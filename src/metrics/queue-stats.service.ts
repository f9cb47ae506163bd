import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type Redis from 'ioredis';
import { withTimeout } from '../common/with-timeout';
import { EVENTS_QUEUE, QUEUED_EVENTS_KEY } from '../queue/queue.contract';
import { REDIS } from '../redis/redis.module';

/** Longest a read waits for Redis: GET /metrics and the ops overview answer within ~1 s even while Redis hangs. */
const REDIS_TIMEOUT_MS = 1_000;
export const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/** The shared queue state; null where Redis did not answer in time. */
export interface QueueSnapshot {
  /** Events queued and not yet stored or quarantined, all processes (the 429 limit applies to it). */
  backlog: number | null;
  jobs: Record<(typeof JOB_STATES)[number], number> | null;
  /** Age of the oldest waiting job in seconds, 0 when none waits. */
  oldestWaitingAgeSeconds: number | null;
}

/**
 * The queue's state as Redis holds it, read at once for GET /metrics (PrometheusExporter) and the
 * dashboard's overview (OpsService): one definition of each figure and of its timeout.
 */
@Injectable()
export class QueueStats {
  constructor(
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async read(): Promise<QueueSnapshot> {
    const ready = this.queue.client.status === 'ready';
    const [backlog, counts, oldest] = await Promise.all([
      withTimeout(this.redis.hlen(QUEUED_EVENTS_KEY), REDIS_TIMEOUT_MS).catch(() => null),
      ready ? withTimeout(this.queue.getJobCounts(), REDIS_TIMEOUT_MS).catch(() => null) : null,
      ready ? withTimeout(this.oldestWaitingAgeSeconds(), REDIS_TIMEOUT_MS).catch(() => null) : null,
    ]);
    return {
      backlog,
      jobs: counts && {
        waiting: counts.waiting,
        active: counts.active,
        delayed: counts.delayed,
        failed: counts.failed,
      },
      oldestWaitingAgeSeconds: oldest,
    };
  }

  private async oldestWaitingAgeSeconds(): Promise<number> {
    const [oldest] = await this.queue.getWaiting(0, 0);
    if (!oldest) return 0;
    return Math.max(0, (Date.now() - oldest.timestamp) / 1000);
  }
}
