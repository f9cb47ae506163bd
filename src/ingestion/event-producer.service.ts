import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ApiError } from '../common/api-error';
import { GroupCommit } from '../common/group-commit';
import { withTimeout } from '../common/with-timeout';
import {
  EVENTS_QUEUE,
  INGEST_JOB,
  type IngestJobData,
  QUEUED_EVENTS_KEY,
  type QueuedEvent,
  queuedField,
  queuedMark,
} from '../queue/queue.contract';

/** Longest a request waits for Redis before answering 503 (the contract says within 2 s). */
const ENQUEUE_TIMEOUT_MS = 1_500;
/**
 * Events per Bull job (a single larger request travels alone); reaching it flushes at once.
 * 200 typical events serialize to ~60 KB: under V8's 128 KiB large-object size, above which
 * every copy of the job's JSON (stringify, the Redis write, the worker's read) pays fresh-page
 * faults that cost more than the serialization itself.
 */
const MAX_EVENTS_PER_JOB = 200;
/** Flushes in flight at once; requests arriving meanwhile are grouped into the next one. */
const MAX_INFLIGHT_FLUSHES = 2;
/**
 * How long a small group of events waits for others to share its job. Every job costs ~8 round
 * trips between the API, Redis, the worker and PostgreSQL, and a round trip's syscalls cost more
 * CPU than the event itself, so a few milliseconds of waiting lower both the machine's CPU and the
 * tail latency at low rates (docs/benchmark.md). The group waits it out even when a flush in
 * flight completes first (otherwise jobs shrink to a few events under load), unless it reaches
 * LINGER_BELOW events.
 */
const LINGER_MS = 3;
/**
 * Events from which a group is sent without lingering: a job's fixed cost is already shared by 50
 * events, and a batch request would otherwise wait LINGER_MS for nothing.
 */
const LINGER_BELOW = 50;
const BACKLOG_POLL_MS = 200;
const RETRY_AFTER_BACKLOG_S = 2;
const RETRY_AFTER_DOWN_S = 5;

/**
 * Errors the events' data causes rather than Redis: what JSON.stringify throws (RangeError for a
 * stack overflow or an oversized string, TypeError for a cycle or a BigInt) when Bull serializes
 * the job. Redis trouble comes as ioredis errors or the enqueue timeout, plain Errors.
 */
export const isDataError = (err: unknown): boolean => err instanceof RangeError || err instanceof TypeError;

/**
 * Puts accepted events on the Bull queue, durably, before the request is answered.
 *
 * Group commit: the events of all requests that arrive while a flush is in flight (or within the
 * same event-loop turn) travel in one Bull job, because a Bull job costs ~65 µs of CPU however
 * small it is. Each request still waits until its own events are in Redis.
 *
 * Never hangs: while Redis is unreachable, enqueue() fails at once (or after
 * ENQUEUE_TIMEOUT_MS at worst) with 503; while the backlog of queued-but-not-stored events is
 * over MAX_QUEUE_BACKLOG it fails with 429. Both carry Retry-After.
 *
 * Isolation: a request whose events cannot be serialized (the envelope checks make that
 * unlikely) fails alone with a 400; the other requests of its group are written without it.
 */
@Injectable()
export class EventProducer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventProducer.name);
  private readonly group = new GroupCommit<QueuedEvent>({
    write: (events) => this.write(events),
    maxItems: MAX_EVENTS_PER_JOB,
    maxInflight: MAX_INFLIGHT_FLUSHES,
    lingerMs: LINGER_MS,
    lingerBelow: LINGER_BELOW,
    // A group that failed because of its data (not Redis) is written again request by request:
    // only the request that brought the bad data fails.
    isolate: isDataError,
  });
  /** Last HLEN of the queued-events hash plus what this process added since. */
  private backlog = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.pollBacklog(), BACKLOG_POLL_MS);
    this.timer.unref();
    void this.pollBacklog();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  enqueue(events: QueuedEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.queue.client.status !== 'ready') {
      return Promise.reject(
        ApiError.unavailable(
          'queue_unavailable',
          'The event queue is unreachable; retry later',
          RETRY_AFTER_DOWN_S,
        ),
      );
    }
    if (this.backlog + this.group.waiting + events.length > this.config.maxQueueBacklog) {
      return Promise.reject(
        ApiError.rateLimited(
          `The processing backlog is over its limit (${this.config.maxQueueBacklog} events)`,
          RETRY_AFTER_BACKLOG_S,
        ),
      );
    }
    return this.group.add(events).catch((err: unknown) => {
      throw this.toApiError(err);
    });
  }

  /**
   * Marks the events queued (status + backlog) and adds the job, within the timeout. The job's id is
   * taken first from the queue's own job counter in Redis, the one Bull numbers jobs from (so no
   * job added elsewhere can take the same id), shared by every API process, so that
   * - each mark names its job: a mark whose job never came (a crash between the two) or died can be
   *   told from a live one and swept (processing/queued-marks.sweeper.ts);
   * - job ids follow acknowledgement order across processes: the worker derives the arrival order
   *   of equal timestamps from them (processing/arrival-order.ts, docs/ordering.md).
   */
  private async write(events: QueuedEvent[]): Promise<void> {
    const client = this.queue.client;
    const work = (async () => {
      const jobId = String(await client.incr(this.queue.toKey('id')));
      const fields: string[] = new Array<string>(events.length * 2);
      for (let i = 0; i < events.length; i++) {
        fields[2 * i] = queuedField(events[i].id, events[i].client_id);
        fields[2 * i + 1] = queuedMark(events[i].client_id, jobId);
      }
      // Then one round trip: both commands go out back to back on the same connection, so Redis marks
      // the events queued before the job exists for any worker (whose HDEL therefore comes after).
      const [marked, added] = await Promise.allSettled([
        client.hset(QUEUED_EVENTS_KEY, ...fields),
        this.queue.add(INGEST_JOB, { v: 1, events }, { jobId }),
      ]);
      if (added.status === 'rejected') {
        if (marked.status === 'fulfilled') {
          const marks = events.map((e) => queuedField(e.id, e.client_id));
          await client.hdel(QUEUED_EVENTS_KEY, ...marks).catch(() => undefined);
        }
        throw added.reason;
      }
      // The job is queued even if the marking failed: only the "queued" status and the backlog
      // count miss these events until the worker stores them.
    })();
    await withTimeout(work, ENQUEUE_TIMEOUT_MS);
    this.backlog += events.length;
  }

  /**
   * 503 only when Redis is the cause: an error of the events' own serialization means they can
   * never be queued, and a 503 would have the client retry them forever.
   */
  private toApiError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (isDataError(err)) {
      this.logger.warn(`events refused, they cannot be serialized for the queue: ${message}`);
      return /call stack/i.test(message)
        ? new ApiError(400, 'payload_too_deep', 'The event payload nests too deep to be queued')
        : ApiError.badRequest(`The events cannot be queued: ${message}`);
    }
    this.logger.warn(`enqueue failed: ${message}`);
    return ApiError.unavailable(
      'queue_unavailable',
      'The event queue is unreachable; retry later',
      RETRY_AFTER_DOWN_S,
    );
  }

  private async pollBacklog(): Promise<void> {
    if (this.queue.client.status !== 'ready') return;
    try {
      this.backlog = await this.queue.client.hlen(QUEUED_EVENTS_KEY);
    } catch {
      // Redis went away between the status check and the command: the next poll will tell.
    }
  }
}
