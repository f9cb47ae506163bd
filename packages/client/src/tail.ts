import { EyeError } from './errors';
import { describeBody, exchange, type FetchLike } from './http';
import { parseRetryAfter, retryDelay } from './retry';
import type { TokenProvider } from './token';
import type { EventPageDto, EventViewDto } from './wire/openapi';

export interface TailOptions {
  baseUrl: string;
  tokens: TokenProvider;
  /** Filters of GET /v1/events (category, name, session_id, client_id). */
  filters: Record<string, string>;
  /** Show events with a timestamp at or after this (ISO 8601). */
  from: string;
  /** Time between polls. */
  intervalMs: number;
  /**
   * How far behind the newest timestamp seen each poll looks again, for events that are stored
   * late (client batching, queue, worker): their timestamp is older than events already shown.
   */
  lookbackMs: number;
  timeoutMs: number;
  fetch?: FetchLike;
  signal?: AbortSignal;
  /** Called once per new event, in (timestamp, arrival) order within a poll. */
  onEvent(event: TailedEvent): void;
  onRetry?(message: string): void;
}

/** A stored event as GET /v1/events pages it. */
export type TailedEvent = EventViewDto;

/**
 * Follows newly stored events by polling `GET /v1/events?from=…` in ascending order, following
 * `next_cursor` to the last page. Each poll starts `lookbackMs` before the newest timestamp
 * already seen and skips the ids it already showed, so an event stored late still appears once.
 * Runs until `signal` aborts.
 */
export async function tail(opts: TailOptions): Promise<void> {
  const fetchImpl = opts.fetch ?? fetch;
  const startMs = Date.parse(opts.from);
  if (Number.isNaN(startMs)) throw new EyeError('http_error', `--from ${opts.from} is not a date-time`);
  let newestMs = startMs;
  // Ids shown whose timestamp is still inside the look-back window, with that timestamp.
  const seen = new Map<string, number>();
  let failures = 0;
  while (!opts.signal?.aborted) {
    const windowStart = Math.max(startMs, newestMs - opts.lookbackMs);
    try {
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ ...opts.filters, order: 'asc', limit: '1000' });
        if (cursor) params.set('cursor', cursor);
        else params.set('from', isoMicros(windowStart));
        const page = await getPage(fetchImpl, opts, `${opts.baseUrl}/v1/events?${params.toString()}`);
        for (const event of page.data) {
          if (seen.has(event.id)) continue;
          const ts = Date.parse(event.timestamp);
          seen.set(event.id, ts);
          if (ts > newestMs) newestMs = ts;
          opts.onEvent(event);
        }
        cursor = page.next_cursor;
      } while (cursor && !opts.signal?.aborted);
      failures = 0;
    } catch (err) {
      if (
        err instanceof EyeError &&
        (err.code === 'auth_failed' || err.status === 400 || err.status === 401 || err.status === 403)
      ) {
        throw err;
      }
      const e = err instanceof EyeError ? err : undefined;
      opts.onRetry?.(err instanceof Error ? err.message : String(err));
      await sleep(retryDelay(failures++, e?.retryAfterMs, opts.intervalMs, 30_000), opts.signal);
      continue;
    }
    const keepFrom = Math.max(startMs, newestMs - opts.lookbackMs);
    for (const [id, ts] of seen) if (ts < keepFrom) seen.delete(id);
    await sleep(opts.intervalMs, opts.signal);
  }
}

async function getPage(fetchImpl: FetchLike, opts: TailOptions, url: string): Promise<EventPageDto> {
  for (let reauth = 0; ; reauth++) {
    const token = await opts.tokens.get();
    const answer = await exchange(
      fetchImpl,
      url,
      { method: 'GET', headers: { authorization: `Bearer ${token}` } },
      opts.timeoutMs,
    );
    if (answer.status === 401 && reauth === 0) {
      opts.tokens.invalidate(token);
      continue;
    }
    if (answer.status !== 200) {
      throw new EyeError(
        'http_error',
        `GET /v1/events answered ${answer.status}: ${describeBody(answer.text)}`,
        {
          status: answer.status,
          retryAfterMs: parseRetryAfter(answer.retryAfter),
        },
      );
    }
    return JSON.parse(answer.text) as EventPageDto;
  }
}

/** RFC 3339 UTC with 6 fractional digits, the API's own format. */
function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
