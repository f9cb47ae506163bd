// The retry rules, as pure functions so that they can be tested without a clock or a network.

/** What to do after an answer (or no answer) to a request. */
export type Verdict = 'ok' | 'retry' | 'reauth' | 'split' | 'fail';

/**
 * Network errors, timeouts (`status` undefined), 408, 429 and 5xx are worth another attempt; 401
 * asks for a new token first; 413 (body too large for this server's limit) for a smaller batch;
 * any other 4xx will be refused again however often it is sent.
 */
export function verdictFor(status: number | undefined): Verdict {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 401) return 'reauth';
  if (status === 413) return 'split';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'fail';
}

/**
 * Exponential backoff with "equal jitter": half of the exponential step is kept, the other half is
 * random, so that clients that failed together do not retry together, yet never retry at once.
 * `attempt` counts from 0 (the delay before the first retry).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month (IMF-fixdate); Date.parse alone would read "-1" as a year.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The wait before the next attempt: the server's Retry-After when it gave one, else the backoff. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, maxRetryAfterMs(maxMs));
  return backoffDelay(attempt, baseMs, maxMs, random);
}

/** A Retry-After longer than this is capped, so a confused proxy cannot park a client for a day. */
function maxRetryAfterMs(maxBackoffMs: number): number {
  return Math.max(maxBackoffMs, 60_000);
}
