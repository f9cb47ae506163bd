import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { nowMicros, parseTimestamp } from '../common/timestamp';
import { MetricsService } from '../metrics/metrics.service';
import { PG_POOL } from '../prisma/pg-pool';
import { QUEUED_EVENTS_KEY, type QueuedEvent } from '../queue/queue.contract';
import { ValidatorRegistry } from '../schemas/validator-registry';
import { type CheckPolicy, checkEvent, isQueuedEvent, storableText } from './event-checks';
import { EventsRepository, type Quarantined, type StoreResult } from './events.repository';

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';

/**
 * Validates a job's events and stores them in one transaction: valid events to `events`
 * (+ sessions, per-minute counts), the others to the quarantine with machine-readable reasons.
 * The transaction commits before the job is acknowledged, and storage is idempotent, so a job
 * retried after a crash or a timeout stores nothing twice and loses nothing.
 */
@Injectable()
export class ProcessingService {
  private readonly logger = new Logger(ProcessingService.name);
  private readonly policy: CheckPolicy;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: ValidatorRegistry,
    private readonly metrics: MetricsService,
  ) {
    this.policy = {
      maxClockSkewMs: config.maxClockSkewMs,
      unknownEventTypes: config.unknownEventTypes,
      validate: (category, name, data) => this.registry.validate(category, name, data),
    };
  }

  /** Sorts events into valid and quarantined. Anything malformed is quarantined, not thrown. */
  classify(events: unknown[]): { valid: QueuedEvent[]; rejected: Quarantined[]; malformed: number } {
    const valid: QueuedEvent[] = [];
    const rejected: Quarantined[] = [];
    let malformed = 0;
    for (const e of events) {
      if (!isQueuedEvent(e)) {
        // Cannot be keyed or stored: only a producer bug or a hand-made job gets here.
        malformed++;
        continue;
      }
      const verdict = checkEvent(e, this.policy);
      if (verdict.ok) valid.push(e);
      else
        rejected.push({
          event: e,
          errors: verdict.errors.map((x) => ({
            ...x,
            path: storableText(x.path),
            message: storableText(x.message),
          })),
        });
    }
    return { valid, rejected, malformed };
  }

  /** Processes one job's events; throws (and Bull retries the job) only when storage failed. */
  async process(events: unknown, redis: Redis): Promise<StoreResult> {
    if (!Array.isArray(events)) {
      this.logger.error('job without an events array: dropped as malformed');
      return { inserted: 0, quarantined: 0 };
    }
    const { valid, rejected, malformed } = this.classify(events);
    if (malformed)
      this.logger.error(`${malformed} malformed event(s) in a job could not be keyed and were skipped`);
    const result = await this.storeWithRetry(valid, rejected);
    const ids = (events as QueuedEvent[]).filter((e) => typeof e?.id === 'string').map((e) => e.id);
    if (ids.length) await redis.hdel(QUEUED_EVENTS_KEY, ...ids);

    const m = this.metrics.counters;
    m.eventsStored += result.inserted;
    m.eventsDuplicate += valid.length - result.inserted;
    m.eventsQuarantined += result.quarantined;
    m.jobsCompleted++;
    const firstReceived = valid[0]?.received_at ?? rejected[0]?.event.received_at;
    if (firstReceived)
      this.metrics.lastProcessingLagSeconds = (nowMicros() - (parseTimestamp(firstReceived) ?? 0)) / 1e6;
    return result;
  }

  /** One transaction; deadlocks and serialization failures are retried at once. */
  async storeWithRetry(valid: QueuedEvent[], rejected: Quarantined[]): Promise<StoreResult> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await EventsRepository.store(client, valid, rejected);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if ((code === DEADLOCK || code === SERIALIZATION) && attempt < 5) continue;
        throw err;
      } finally {
        client.release();
      }
    }
  }
}
