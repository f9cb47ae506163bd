import { EventEmitter } from 'node:events';
import { EyeError } from './errors';
import { describeBody, exchange, type FetchLike } from './http';
import { parseRetryAfter, retryDelay, verdictFor } from './retry';
import { TokenProvider } from './token';
import { uuidv7 } from './uuid';
import type { BatchResponseDto, EventDto, FieldErrorDto } from './wire/openapi';

/**
 * An event as the application tracks it: the wire's event (`EventDto` of POST /v1/events/batch)
 * whose `id` (UUID, the idempotency key) gets a UUIDv7 from track() when absent, and whose
 * `timestamp` may also be a Date or be left out (default: now).
 */
export type EyeEvent = Omit<EventDto, 'timestamp'> & {
  /** When it happened; default: now. ISO 8601 (up to 6 fractional digits) or a Date. */
  timestamp?: string | Date;
};

export interface EyeClientOptions {
  /** Where The Eye answers, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Send as soon as this many events are queued; also the most events in one batch (1-1000). Default 100. */
  flushAt?: number;
  /** Send what is queued at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Most events waiting to be sent; beyond it track() drops the new event (`dropped`). Default 10,000. */
  maxQueueSize?: number;
  /** Retries of one batch after its first attempt, before it is given up (`error`). Default 10. */
  maxRetries?: number;
  /** Deadline of one HTTP exchange, answer body included. Default 10,000 ms. */
  timeoutMs?: number;
  /** Most bytes in one batch request body; keep it under the server's MAX_BODY_BYTES (5 MB). Default 4 MiB. */
  maxBatchBytes?: number;
  /** Batches in flight at once. Default 1 (events then reach the server in track() order). */
  concurrency?: number;
  /** First backoff step; doubles per retry up to `maxBackoffMs`. Default 200 ms. */
  minBackoffMs?: number;
  /** Largest backoff step. Default 30,000 ms. */
  maxBackoffMs?: number;
  /** The fetch to use (tests, proxies). Default: Node's global fetch. */
  fetch?: FetchLike;
}

/** Why the server refused an event of a batch: a JSON pointer into the request and a message. */
export type FieldError = FieldErrorDto;

/** An event the server refused in a batch answer (or that is too large to send at all); never retried. */
export interface RejectedEvent {
  id: string;
  errors: FieldError[];
  /** The event as it was sent. */
  event: EyeEvent;
}

export type DropReason = 'queue_full' | 'closed';

/** An event that was never queued: the queue was full, or the client was closed. */
export interface DroppedEvent {
  id: string;
  reason: DropReason;
  event: EyeEvent;
}

/** A batch the server answered 2xx. */
export interface SentBatch {
  ids: string[];
  accepted: number;
  rejected: number;
}

export interface EyeClientEvents {
  error: [EyeError];
  rejected: [RejectedEvent];
  dropped: [DroppedEvent];
  sent: [SentBatch];
}

interface Entry {
  id: string;
  json: string;
  bytes: number;
}

/** Upper bound of the server's batch route (`maxItems` in openapi.json; test/limits.spec.ts holds it there). */
export const MAX_BATCH_EVENTS = 1000;
// `{"events":[` + `]}`
const BATCH_OVERHEAD = 13;

/**
 * Batches events to `POST /v1/events/batch` with retries that never double an event: the id is
 * fixed in track(), and the server stores an id once however often it arrives.
 */
export class EyeClient extends EventEmitter<EyeClientEvents> {
  private readonly baseUrl: string;
  private readonly flushAt: number;
  /** Most events waiting to be sent (see `track`). */
  readonly maxQueueSize: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly maxBatchBytes: number;
  private readonly concurrency: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly fetchImpl: FetchLike;
  private readonly tokens: TokenProvider;
  private readonly timer: NodeJS.Timeout;

  // The queue is an array read from `head`: shift() would be O(n) per batch at 10,000 entries.
  private queue: Entry[] = [];
  private head = 0;
  private enqueued = 0;
  private dequeued = 0;
  /** Sequence number up to which partial batches are sent at once (flush()). */
  private flushTarget = 0;
  private readonly inflight = new Set<Promise<void>>();
  private settleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: EyeClientOptions) {
    super();
    if (!options.baseUrl) throw new TypeError('EyeClient: baseUrl is required');
    if (!options.clientId || !options.clientSecret) {
      throw new TypeError('EyeClient: clientId and clientSecret are required');
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.flushAt = clampInt(options.flushAt ?? 100, 1, MAX_BATCH_EVENTS);
    this.maxQueueSize = clampInt(options.maxQueueSize ?? 10_000, 1, Number.MAX_SAFE_INTEGER);
    this.maxRetries = clampInt(options.maxRetries ?? 10, 0, Number.MAX_SAFE_INTEGER);
    this.timeoutMs = clampInt(options.timeoutMs ?? 10_000, 1, 2 ** 31 - 1);
    this.maxBatchBytes = clampInt(options.maxBatchBytes ?? 4 * 1024 * 1024, 1024, Number.MAX_SAFE_INTEGER);
    this.concurrency = clampInt(options.concurrency ?? 1, 1, 64);
    this.minBackoffMs = clampInt(options.minBackoffMs ?? 200, 1, 2 ** 31 - 1);
    this.maxBackoffMs = clampInt(options.maxBackoffMs ?? 30_000, this.minBackoffMs, 2 ** 31 - 1);
    this.fetchImpl = options.fetch ?? fetch;
    this.tokens = new TokenProvider({
      baseUrl: this.baseUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      fetch: this.fetchImpl,
      timeoutMs: this.timeoutMs,
    });
    const interval = clampInt(options.flushIntervalMs ?? 1000, 1, 2 ** 31 - 1);
    // Unref'd: an idle client must never keep the process alive. Batches in flight (and their
    // retry waits) do hold it, so `await client.close()` always completes.
    this.timer = setInterval(() => this.tick(), interval).unref();
  }

  /** Events waiting to be sent (not counting batches in flight). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Queues an event and returns its id. Never throws for the server's reasons: a full queue or a
   * closed client emits `dropped`; an event too large for one batch emits `rejected`. Throws only
   * for an event that cannot be turned into JSON (cycles, BigInt).
   */
  track(event: EyeEvent): string {
    const id = event.id ?? uuidv7();
    if (this.closing) {
      this.emit('dropped', { id, reason: 'closed', event });
      return id;
    }
    if (this.queued >= this.maxQueueSize) {
      this.emit('dropped', { id, reason: 'queue_full', event });
      return id;
    }
    const json = serialize(event, id);
    const bytes = Buffer.byteLength(json);
    if (bytes + BATCH_OVERHEAD > this.maxBatchBytes) {
      const message = `the event is ${bytes} bytes of JSON, more than maxBatchBytes allows`;
      this.emit('rejected', { id, errors: [{ path: '/', message }], event: JSON.parse(json) as EyeEvent });
      return id;
    }
    this.queue.push({ id, json, bytes });
    this.enqueued++;
    if (this.queued >= this.flushAt) this.pump();
    return id;
  }

  /** Resolves when the queue has room for at least one more event (for producers that can wait). */
  waitForRoom(): Promise<void> {
    if (this.queued < this.maxQueueSize) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Sends everything queued so far; resolves when those batches have settled (stored, rejected or given up). */
  async flush(): Promise<void> {
    const target = this.enqueued;
    if (target > this.flushTarget) this.flushTarget = target;
    this.pump();
    while (this.dequeued < target) await this.nextSettle();
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Stops taking events (later track() calls emit `dropped`), sends what is queued, and resolves
   * once every batch in flight has settled.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.flush();
    })();
    return this.closing;
  }

  private tick(): void {
    if (this.queued > 0 && this.enqueued > this.flushTarget) this.flushTarget = this.enqueued;
    this.pump();
  }

  private nextSettle(): Promise<void> {
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  /** Starts batches while a slot is free and there is a full batch, or a flush asks for a partial one. */
  private pump(): void {
    while (this.inflight.size < this.concurrency && this.queued > 0) {
      if (this.queued < this.flushAt && this.dequeued >= this.flushTarget) return;
      const batch = this.take();
      const sending: Promise<void> = this.send(batch).finally(() => {
        this.inflight.delete(sending);
        const waiters = this.settleWaiters;
        this.settleWaiters = [];
        for (const w of waiters) w();
        this.pump();
      });
      this.inflight.add(sending);
    }
  }

  private take(): Entry[] {
    const batch: Entry[] = [];
    let bytes = BATCH_OVERHEAD;
    while (this.head < this.queue.length && batch.length < this.flushAt) {
      const entry = this.queue[this.head];
      // +1 for the comma; the first entry always fits (track() refused larger ones).
      if (batch.length > 0 && bytes + entry.bytes + 1 > this.maxBatchBytes) break;
      batch.push(entry);
      bytes += entry.bytes + 1;
      this.head++;
    }
    this.dequeued += batch.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.roomWaiters.length > 0 && this.queued < this.maxQueueSize) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
    return batch;
  }

  /** One batch until it is answered 2xx, split (413), or given up. Never rejects. */
  private async send(batch: Entry[]): Promise<void> {
    const body = `{"events":[${batch.map((e) => e.json).join(',')}]}`;
    const url = `${this.baseUrl}/v1/events/batch`;
    let retries = 0;
    let reauthorized = false;
    for (;;) {
      let token: string | undefined;
      let status: number | undefined;
      let retryAfterMs: number | undefined;
      let problem: string;
      try {
        token = await this.tokens.get();
        const answer = await exchange(
          this.fetchImpl,
          url,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body,
          },
          this.timeoutMs,
        );
        status = answer.status;
        retryAfterMs = parseRetryAfter(answer.retryAfter);
        if (status >= 200 && status < 300) {
          this.answered(batch, answer.text);
          return;
        }
        problem = `batch answered ${status}: ${describeBody(answer.text)}`;
      } catch (err) {
        const e = err instanceof EyeError ? err : new EyeError('network_error', String(err), { cause: err });
        if (e.code === 'auth_failed') return this.giveUp(batch, e);
        status = e.status;
        retryAfterMs = e.retryAfterMs;
        problem = e.message;
      }
      switch (verdictFor(status)) {
        case 'ok':
          return;
        case 'reauth':
          if (token) this.tokens.invalidate(token);
          // The token expired or was revoked between our check and the server's: one immediate
          // retry with a new token; a second 401 waits like any retry.
          if (!reauthorized) {
            reauthorized = true;
            continue;
          }
          break;
        case 'split':
          if (batch.length > 1) {
            const half = Math.ceil(batch.length / 2);
            await this.send(batch.slice(0, half));
            await this.send(batch.slice(half));
            return;
          }
          this.reject(batch[0], [{ path: '/', message: 'larger than the server accepts (413)' }]);
          return;
        case 'fail':
          return this.giveUp(batch, new EyeError('http_error', problem, { status, retryAfterMs }));
        case 'retry':
          break;
      }
      if (retries >= this.maxRetries) {
        return this.giveUp(
          batch,
          new EyeError('retries_exhausted', `gave up after ${retries + 1} attempts; last: ${problem}`, {
            status,
            retryAfterMs,
          }),
        );
      }
      await sleep(retryDelay(retries, retryAfterMs, this.minBackoffMs, this.maxBackoffMs));
      retries++;
    }
  }

  private answered(batch: Entry[], text: string): void {
    let accepted = batch.length;
    let rejected = 0;
    // The usual answer refuses nothing: skip parsing its 1,000 results. `"rejected":<digits>` can
    // only be the top-level count (inside a JSON string its quotes would be escaped).
    if (/"rejected":0[,}]/.test(text)) {
      if (this.listenerCount('sent') > 0)
        this.emit('sent', { ids: batch.map((e) => e.id), accepted, rejected });
      return;
    }
    try {
      // Partial: a proxy in between may answer 2xx with another body.
      const body = JSON.parse(text) as Partial<BatchResponseDto>;
      for (const r of body.results ?? []) {
        if (r.status !== 'rejected' || !batch[r.index]) continue;
        rejected++;
        accepted--;
        this.reject(batch[r.index], r.errors ?? []);
      }
    } catch {
      // A 2xx without a readable body: the server took the batch; nothing to report per event.
    }
    if (this.listenerCount('sent') > 0)
      this.emit('sent', { ids: batch.map((e) => e.id), accepted, rejected });
  }

  private reject(entry: Entry, errors: FieldError[]): void {
    if (this.listenerCount('rejected') === 0) return;
    this.emit('rejected', { id: entry.id, errors, event: JSON.parse(entry.json) as EyeEvent });
  }

  private giveUp(batch: Entry[], cause: EyeError): void {
    const err = new EyeError(cause.code, `${batch.length} events not sent: ${cause.message}`, {
      status: cause.status,
      retryAfterMs: cause.retryAfterMs,
      ids: batch.map((e) => e.id),
      cause,
    });
    // An EventEmitter throws an unheard 'error'; a library must not crash its host for it.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, 'EyeClientWarning');
  }
}

/**
 * The event's JSON with its id and timestamp. The common case (neither set by the caller) splices
 * them in front of JSON.stringify's output instead of copying the event into a new object.
 */
function serialize(event: EyeEvent, id: string): string {
  const ts = event.timestamp;
  if (event.id === undefined && (ts === undefined || typeof ts === 'string') && !('toJSON' in event)) {
    const timestamp = ts === undefined ? `,"timestamp":"${new Date().toISOString()}"` : '';
    const rest = JSON.stringify(event);
    return `{"id":"${id}"${timestamp}${rest.length > 2 ? ',' : ''}${rest.slice(1)}`;
  }
  const timestamp = ts === undefined ? new Date().toISOString() : ts instanceof Date ? ts.toISOString() : ts;
  return JSON.stringify({ ...event, id, timestamp });
}

function clampInt(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return max;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
