import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.setup';
import { loadConfig } from '../../src/config/config';
import { TEST_ADMIN_ID, TEST_ADMIN_SECRET, testEnv } from './env';
import type { CreatedClientDto, TokenResponseDto } from './wire';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

/** The real application (AppModule, real Postgres and Redis) listening on a free loopback port. */
export async function startApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const config = loadConfig(testEnv(env));
  const app = await createApp(config);
  if (config.role === 'worker') {
    await app.init();
    return { app, url: '', close: () => app.close() };
  }
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, url: `http://127.0.0.1:${port}`, close: () => drain(app) };
}

/**
 * Closes the app as the service's own SIGTERM drain does (src/main.ts): idle keep-alive connections
 * at once, whatever is still open after a short grace. Without that, a keep-alive socket the test's
 * fetch keeps (or an export the test aborted) holds app.close() for about a minute.
 */
async function drain(app: NestFastifyApplication): Promise<void> {
  const server = app.getHttpServer();
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 100);
  const cut = setTimeout(() => server.closeAllConnections(), 2_000);
  try {
    await app.close();
  } finally {
    clearInterval(idle);
    clearTimeout(cut);
  }
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch + JSON, never throws on HTTP errors. */
export async function http<T = any>(
  url: string,
  init: {
    method?: string;
    token?: string;
    json?: unknown;
    body?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export async function tokenFor(url: string, clientId: string, secret: string): Promise<string> {
  const res = await http(`${url}/v1/auth/token`, { json: { client_id: clientId, client_secret: secret } });
  if (res.status !== 200) throw new Error(`token for ${clientId}: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as TokenResponseDto).access_token;
}

export function adminToken(url: string): Promise<string> {
  return tokenFor(url, TEST_ADMIN_ID, TEST_ADMIN_SECRET);
}

export interface TestClient {
  clientId: string;
  secret: string;
  token: string;
}

/** Registers a client through the admin API and gets it a token. */
export async function registerClient(
  url: string,
  scopes: string[],
  name = 'test client',
): Promise<TestClient> {
  const admin = await adminToken(url);
  const res = await http<CreatedClientDto>(`${url}/v1/clients`, {
    token: admin,
    json: { name, scopes },
  });
  if (res.status !== 201) throw new Error(`register client: ${res.status} ${JSON.stringify(res.body)}`);
  const token = await tokenFor(url, res.body.client_id, res.body.client_secret);
  return { clientId: res.body.client_id, secret: res.body.client_secret, token };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
