import { EyeError } from './errors';
import { describeBody, exchange, type FetchLike } from './http';
import { parseRetryAfter, retryDelay, verdictFor } from './retry';
import type { TokenProvider } from './token';
import type { EventStatusDto, RejectionErrorDto } from './wire/openapi';

/**
 * Why the worker quarantined an event (`GET /v1/events/{id}` of a rejected event): one of its
 * `errors`, or one of its bare `reasons` codes (then without path and message).
 */
export type Rejection = Pick<RejectionErrorDto, 'reason'> & Partial<RejectionErrorDto>;

export interface VerdictCounts {
  stored: number;
  rejected: number;
  /** Events whose verdict could not be learnt (404, or the status route kept failing). */
  unknown: number;
}

export interface VerdictWaiterOptions {
  baseUrl: string;
  tokens: TokenProvider;
  fetch: FetchLike;
  timeoutMs: number;
  /** Status requests in flight at once. Default 8. */
  concurrency?: number;
  /** Wait before asking again about an event still queued (and before the first ask). Default 250 ms. */
  pollMs?: number;
  /** Most events awaiting a verdict; beyond it `waitForRoom()` holds the producer. Default 10,000. */
  maxPending?: number;
  /** Retries of one status request (network errors, 429, 5xx) before the verdict is "unknown". Default 10. */
  maxRetries?: number;
  onRejected(id: string, tag: number | undefined, reasons: Rejection[]): void;
  onUnknown(id: string, tag: number | undefined, why: string): void;
}

interface Pending {
  id: string;
  /** The caller's label (the CLI's line number). */
  tag: number | undefined;
  due: number;
}

/**
 * Learns what became of queued events by asking `GET /v1/events/{id}` until each is stored or
 * rejected. The set of events awaiting a verdict is bounded (`maxPending`), so a producer that
 * awaits `waitForRoom()` keeps memory flat however many events it sends.
 */
export class VerdictWaiter {
  readonly counts: VerdictCounts = { stored: 0, rejected: 0, unknown: 0 };
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly maxPending: number;
  private readonly maxRetries: number;
  // Read from `head` (FIFO): entries are added with due = now + pollMs, so the head is due first.
  private queue: Pending[] = [];
  private head = 0;
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: VerdictWaiterOptions) {
    this.concurrency = opts.concurrency ?? 8;
    this.pollMs = opts.pollMs ?? 250;
    this.maxPending = opts.maxPending ?? 10_000;
    this.maxRetries = opts.maxRetries ?? 10;
  }

  /** Events awaiting a verdict (being asked about included). */
  get pending(): number {
    return this.queue.length - this.head + this.active;
  }

  add(id: string, tag?: number): void {
    this.queue.push({ id, tag, due: Date.now() + this.pollMs });
    this.pump();
  }

  /** Resolves when fewer than `maxPending` events await a verdict. */
  waitForRoom(): Promise<void> {
    return this.until(() => this.pending < this.maxPending);
  }

  /** Resolves once every event added so far has its verdict. */
  async done(): Promise<VerdictCounts> {
    await this.until(() => this.pending === 0);
    return this.counts;
  }

  private until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (): void => {
        if (!check()) return;
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.head < this.queue.length) {
      const next = this.queue[this.head];
      const wait = next.due - Date.now();
      if (wait > 0) {
        // Not unref'd: the CLI waits on these verdicts and nothing else keeps it alive meanwhile.
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.head++;
      this.active++;
      void this.check(next).finally(() => {
        this.active--;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        for (const w of [...this.waiters]) w();
        this.pump();
      });
    }
  }

  /** One status check, retried on transient failures; never rejects. */
  private async check(entry: Pending): Promise<void> {
    const url = `${this.opts.baseUrl}/v1/events/${entry.id}`;
    let reauthorized = false;
    for (let retries = 0; ; retries++) {
      let token: string | undefined;
      let status: number | undefined;
      let retryAfterMs: number | undefined;
      let problem: string;
      try {
        token = await this.opts.tokens.get();
        const answer = await exchange(
          this.opts.fetch,
          url,
          { method: 'GET', headers: { authorization: `Bearer ${token}` } },
          this.opts.timeoutMs,
        );
        status = answer.status;
        retryAfterMs = parseRetryAfter(answer.retryAfter);
        if (status === 200) return this.answered(entry, answer.text);
        problem = `${url} answered ${status}: ${describeBody(answer.text)}`;
      } catch (err) {
        const e = err instanceof EyeError ? err : new EyeError('network_error', String(err), { cause: err });
        if (e.code === 'auth_failed') return this.unknown(entry, e.message);
        status = e.status;
        retryAfterMs = e.retryAfterMs;
        problem = e.message;
      }
      const verdict = verdictFor(status);
      if (verdict === 'reauth' && !reauthorized) {
        if (token) this.opts.tokens.invalidate(token);
        reauthorized = true;
        continue;
      }
      if (verdict !== 'retry' && verdict !== 'reauth') return this.unknown(entry, problem);
      if (retries >= this.maxRetries)
        return this.unknown(entry, `gave up after ${retries + 1} attempts; last: ${problem}`);
      await new Promise((r) => setTimeout(r, retryDelay(retries, retryAfterMs, 200, 30_000)));
    }
  }

  private answered(entry: Pending, text: string): void {
    // `status` unknown: an answer from something other than The Eye falls to `default`.
    let body: Omit<Partial<EventStatusDto>, 'status'> & { status?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return this.unknown(entry, `unreadable answer: ${text.slice(0, 200)}`);
    }
    switch (body.status) {
      case 'stored':
        this.counts.stored++;
        return;
      case 'rejected':
        this.counts.rejected++;
        this.opts.onRejected(entry.id, entry.tag, rejections(body));
        return;
      case 'queued':
        entry.due = Date.now() + this.pollMs;
        this.queue.push(entry);
        return;
      default:
        return this.unknown(entry, `unexpected status ${JSON.stringify(body.status)}`);
    }
  }

  private unknown(entry: Pending, why: string): void {
    this.counts.unknown++;
    this.opts.onUnknown(entry.id, entry.tag, why);
  }
}

/**
 * The reasons of a rejected event: its `errors` (each with its reason, path and message) when it
 * has any, else its `reasons` (machine-readable codes, e.g. `timestamp_in_future`).
 */
function rejections(body: Pick<Partial<EventStatusDto>, 'reasons' | 'errors'>): Rejection[] {
  if (Array.isArray(body.errors) && body.errors.length > 0) return body.errors;
  return (body.reasons ?? []).map((reason) => ({ reason }));
}
