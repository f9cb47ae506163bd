import { EyeError } from './errors';
import { describeBody, exchange, type FetchLike } from './http';
import { parseRetryAfter } from './retry';
import type { TokenRequestDto, TokenResponseDto } from './wire/openapi';

interface Cached {
  value: string;
  /** When to fetch a new one: some time before the server's expiry, so no request carries a dying token. */
  refreshAt: number;
}

/**
 * Client-credentials tokens from `POST /v1/auth/token`, cached until shortly before they expire.
 * Concurrent callers share one token request.
 */
export class TokenProvider {
  private cached: Cached | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly opts: {
      baseUrl: string;
      clientId: string;
      clientSecret: string;
      fetch: FetchLike;
      timeoutMs: number;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  get(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.value);
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** The server refused `token` (401): forget it, so the next get() asks for a new one. */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const url = `${this.opts.baseUrl}/v1/auth/token`;
    const answer = await exchange(
      this.opts.fetch,
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: this.opts.clientId,
          client_secret: this.opts.clientSecret,
        } satisfies TokenRequestDto),
      },
      this.opts.timeoutMs,
    );
    if (answer.status !== 200) {
      // Wrong credentials (400/401/403) will not get better by asking again; 408/429/5xx may.
      const retriable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
      throw new EyeError(
        retriable ? 'http_error' : 'auth_failed',
        `token request answered ${answer.status}: ${describeBody(answer.text)}`,
        { status: answer.status, retryAfterMs: parseRetryAfter(answer.retryAfter) },
      );
    }
    // Checked field by field below: whatever answered may not be The Eye.
    let body: { [K in keyof TokenResponseDto]?: unknown };
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      body = {};
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new EyeError('invalid_response', 'token response without access_token', { status: 200 });
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    // Refresh a fifth of the lifetime early (at most a minute): clock skew and requests in flight
    // when the token expires would otherwise cost a 401 round trip.
    const margin = Math.min(60_000, lifetimeMs / 5);
    this.cached = { value: body.access_token, refreshAt: this.now() + lifetimeMs - margin };
    return body.access_token;
  }
}
