import { EyeError } from './errors';

export type FetchLike = typeof fetch;

export interface Answer {
  status: number;
  retryAfter: string | null;
  text: string;
}

/**
 * One HTTP exchange with a deadline covering the whole answer (headers and body): a server that
 * accepts the connection and then stalls cannot hold a batch for longer than `timeoutMs`.
 * Network failures and timeouts reject with an EyeError without a status.
 */
export async function exchange(
  fetchImpl: FetchLike,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<Answer> {
  try {
    const res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new EyeError(
      timedOut ? 'timeout' : 'network_error',
      timedOut
        ? `no answer from ${url} within ${timeoutMs} ms`
        : `${url}: ${err instanceof Error ? err.message : String(err)}${cause}`,
      { cause: err },
    );
  }
}

/** The `message` of a JSON error body `{code, message}`, or the start of the text. */
export function describeBody(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.message === 'string') {
      return typeof body.code === 'string' ? `${body.code}: ${body.message}` : body.message;
    }
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}
