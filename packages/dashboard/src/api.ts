import type { ErrorDto, EventPageDto, TokenRequestDto, TokenResponseDto } from './wire';

/**
 * The API as the dashboard sees it. The token lives in this object only (memory): never in
 * localStorage, sessionStorage or a cookie, so closing the tab signs out and no other page of the
 * origin can read it. Any 401 signs out.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Session {
  clientId: string;
  scopes: string[];
  admin: boolean;
}

/** What a failed request answers; partial because a proxy's error page is not the server's JSON. */
type ErrorBody = Partial<ErrorDto>;

export class Api {
  private token: string | null = null;
  session: Session | null = null;

  constructor(private readonly onSignedOut: (reason: string) => void) {}

  async signIn(clientId: string, clientSecret: string): Promise<Session> {
    const res = await fetch('/v1/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, client_secret: clientSecret } satisfies TokenRequestDto),
    });
    const body = (await res.json().catch(() => ({}))) as ErrorBody & Partial<TokenResponseDto>;
    if (!res.ok || !body.access_token) throw toError(res.status, body);
    const scopes = (body.scope ?? '').split(' ').filter(Boolean);
    this.token = body.access_token;
    this.session = { clientId, scopes, admin: scopes.includes('admin') };
    return this.session;
  }

  signOut(reason = ''): void {
    const wasSignedIn = this.token !== null;
    this.token = null;
    this.session = null;
    if (wasSignedIn) this.onSignedOut(reason);
  }

  get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, String(v));
    const qs = query.toString();
    return this.request<T>('GET', qs ? `${path}?${qs}` : path);
  }

  /** `signal` lets the page stop waiting (the server's statement timeout bounds the query itself). */
  post<T, B = unknown>(path: string, body: B, signal?: AbortSignal): Promise<T> {
    return this.request<T>('POST', path, body, signal);
  }

  /** Follows next_cursor until the end or `maxPages`; `truncated` says whether rows were left. */
  async all<T>(
    path: string,
    params: Record<string, string | number | undefined>,
    maxPages = 20,
  ): Promise<{ rows: T[]; truncated: boolean }> {
    const rows: T[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < maxPages; i++) {
      // Every page of the API has EventPageDto's envelope: data and next_cursor.
      const page = await this.get<Pick<EventPageDto, 'next_cursor'> & { data: T[] }>(path, {
        ...params,
        cursor,
      });
      rows.push(...page.data);
      if (!page.next_cursor) return { rows, truncated: false };
      cursor = page.next_cursor;
    }
    return { rows, truncated: true };
  }

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    if (!this.token) throw new ApiError(401, 'unauthorized', 'Signed out');
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const parsed = (await res.json().catch(() => ({}))) as unknown;
    if (res.status === 401) {
      this.signOut(
        'Your session ended (token expired, or the client was revoked or rotated): sign in again.',
      );
    }
    if (!res.ok) throw toError(res.status, parsed as ErrorBody);
    return parsed as T;
  }
}

function toError(status: number, body: ErrorBody): ApiError {
  const details = body.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
  const message = [body.message ?? `HTTP ${status}`, details].filter(Boolean).join(' — ');
  return new ApiError(status, body.code ?? `http_${status}`, message);
}

/** A panel's message for a failed request: 404 means the server predates the route. */
export function describeError(err: unknown, what: string): string {
  if (err instanceof ApiError) {
    if (err.status === 404) return `${what} is not available on this server (its API route answered 404).`;
    if (err.status === 403) return `${what} needs a scope this client does not have (${err.message}).`;
    if (err.status === 401) return 'Signed out.';
    return `${what} failed: ${err.message}`;
  }
  return `${what} failed: ${err instanceof Error ? err.message : String(err)}`;
}
