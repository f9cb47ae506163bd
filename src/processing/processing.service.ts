import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { GroupCommit } from '../common/group-commit';
import { nowMicros, parseTimestamp } from '../common/timestamp';
import { MetricsService } from '../metrics/metrics.service';
import { EVENTS_QUEUE, QUEUED_EVENTS_KEY, type QueuedEvent, queuedField } from '../queue/queue.contract';
import { ValidatorRegistry } from '../schemas/validator-registry';
import { storableText } from '../common/unstorable';
import { arrivalKeys } from './arrival-order';
import { type CheckPolicy, checkEvent, isQueuedEvent, requestRejection } from './event-checks';
import { EventsRepository, type Quarantined, type StoreResult } from './events.repository';

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';
/** Data exceptions and integrity violations: something in the data, not the database being down. */
const isDataError = (err: unknown): boolean => /^2[23]/.test((err as { code?: string }).code ?? '');
/** Jobs above which a worker transaction starts at once instead of on the next turn. */
const MAX_JOBS_PER_TRANSACTION = 8;
/** Worker transactions in flight at once per process (they contend on the hot count rows anyway). */
const MAX_INFLIGHT_TRANSACTIONS = 2;

/** One job's share of a transaction: its sorted events, and the fields to clear from the queued set after. */
interface JobPart {
  valid: QueuedEvent[];
  rejected: Quarantined[];
  marks: string[];
}

/**
 * Validates a job's events and stores them in one transaction (shared with the other jobs active
 * at the same time): valid events to `events`
 * (+ sessions, per-minute counts), the others to the quarantine with machine-readable reasons.
 * The transaction commits before the job is acknowledged, and storage is idempotent, so a job
 * retried after a crash or a timeout stores nothing twice and loses nothing.
 */
@Injectable()
export class ProcessingService {
  private readonly logger = new Logger(ProcessingService.name);
  private readonly policy: CheckPolicy;
  /**
   * Group commit across jobs: the events of the jobs that are active at once (up to
   * WORKER_CONCURRENCY) share one transaction. Without it every small job (single-event
   * requests) paid a whole transaction, and all of them queue on the same hot count rows.
   */
  private readonly group = new GroupCommit<JobPart>({
    write: (parts) => this.storeParts(parts),
    maxItems: MAX_JOBS_PER_TRANSACTION,
    maxInflight: MAX_INFLIGHT_TRANSACTIONS,
    isolate: isDataError,
  });

  constructor(
    private readonly events: EventsRepository,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: ValidatorRegistry,
    private readonly metrics: MetricsService,
  ) {
    this.policy = {
      maxClockSkewMs: config.maxClockSkewMs,
      retentionDays: config.eventsRetentionDays,
      limits: { maxDepth: config.maxPayloadDepth, maxBytes: config.maxEventBytes },
      unknownEventTypes: config.unknownEventTypes,
      validate: (category, name, data) => this.registry.validate(category, name, data),
    };
  }

  /**
   * Sorts events into valid and quarantined. An event without the shape the producer guarantees
   * (no usable id, so it cannot be stored or quarantined) is counted as malformed and skipped.
   */
  classify(events: unknown[]): { valid: QueuedEvent[]; rejected: Quarantined[]; malformed: number } {
    const valid: QueuedEvent[] = [];
    const rejected: Quarantined[] = [];
    let malformed = 0;
    for (const e of events) {
      if ((e as Partial<QueuedEvent> | null)?.rejected !== undefined) {
        // Judged at the request (a bad Segment message): quarantined as it is, never validated.
        const errors = requestRejection(e);
        if (errors) rejected.push({ event: e as QueuedEvent, errors });
        else malformed++;
        continue;
      }
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

  /**
   * Processes one job's events; throws (and Bull retries the job) only when storage failed.
   * `jobId` (Bull's) gives the events their arrival order (arrival-order.ts).
   */
  async process(events: unknown, jobId?: unknown): Promise<void> {
    if (!Array.isArray(events)) {
      this.logger.error('job without an events array: dropped as malformed');
      return;
    }
    const marks: string[] = [];
    const keyOf = arrivalKeys(jobId, events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as Partial<QueuedEvent> | null;
      if (e === null || typeof e !== 'object') continue;
      // Job data is this job's own parse: stamping it is free of copies. A stamp the job carried
      // (only a hand-made job could) never survives.
      if (keyOf) e.seq = keyOf(i);
      else if (e.seq !== undefined) delete e.seq;
      if (typeof e.id === 'string' && typeof e.client_id === 'string')
        marks.push(queuedField(e.id, e.client_id));
    }
    const { valid, rejected, malformed } = this.classify(events);
    if (malformed)
      this.logger.error(`${malformed} malformed event(s) in a job could not be keyed and were skipped`);
    await this.group.add([{ valid, rejected, marks }]);
    this.metrics.counters.jobsCompleted++;
  }

  /**
   * One transaction for the classified events of several jobs, then one HDEL for all their marks
   * (they are no longer "queued"); counts what it did.
   */
  private async storeParts(parts: JobPart[]): Promise<void> {
    const valid = parts.length === 1 ? parts[0].valid : parts.flatMap((p) => p.valid);
    const rejected = parts.length === 1 ? parts[0].rejected : parts.flatMap((p) => p.rejected);
    const result = await this.storeWithRetry(valid, rejected);
    const marks = parts.length === 1 ? parts[0].marks : parts.flatMap((p) => p.marks);
    if (marks.length) await this.queue.client.hdel(QUEUED_EVENTS_KEY, ...marks);
    const m = this.metrics.counters;
    m.eventsStored += result.inserted;
    m.eventsDuplicate += valid.length - result.inserted;
    m.eventsQuarantined += result.quarantined;
    const firstReceived = valid[0]?.received_at ?? rejected[0]?.event.received_at;
    if (firstReceived)
      this.metrics.lastProcessingLagSeconds = (nowMicros() - (parseTimestamp(firstReceived) ?? 0)) / 1e6;
  }

  /** Stores in one transaction; deadlocks and serialization failures are retried at once. */
  async storeWithRetry(valid: QueuedEvent[], rejected: Quarantined[]): Promise<StoreResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.events.store(valid, rejected);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code === DEADLOCK || code === SERIALIZATION) && attempt < 5) continue;
        throw err;
      }
    }
  }
}
