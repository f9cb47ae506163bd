// What every tool does before it measures: give the service its stores and a bootstrap admin, then
// through the admin API register the clients it sends as, get their tokens and write keys. Each
// step checks its answer: a run whose set-up failed would measure only refusals.
import { randomBytes } from 'node:crypto';
import type { CreatedClientDto, TokenResponseDto, WriteKeyDto } from '../../packages/client/src/wire/openapi';
import { httpJson } from './http';

export interface AdminCredentials {
  id: string;
  secret: string;
}

/** The service's stores, its bootstrap admin and a JWT secret of this run only. */
export function storesEnv(databaseUrl: string, redisUrl: string, admin: AdminCredentials): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_CLIENT_ID: admin.id,
    ADMIN_CLIENT_SECRET: admin.secret,
    JWT_SECRET: randomBytes(32).toString('hex'),
  };
}

async function post<T>(
  what: string,
  expected: number,
  url: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const res = await httpJson<T>('POST', url, body, token);
  if (res.status !== expected) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** An access token of client `id`. */
export async function clientToken(base: string, id: string, secret: string): Promise<string> {
  const body = await post<TokenResponseDto>(`token of ${id}`, 200, `${base}/v1/auth/token`, {
    client_id: id,
    client_secret: secret,
  });
  return body.access_token;
}

/** Registers a client with `scopes` (events:write by default); its secret is in the answer only. */
export function registerClient(
  base: string,
  adminToken: string,
  name: string,
  scopes: string[] = ['events:write'],
): Promise<CreatedClientDto> {
  return post('register client', 201, `${base}/v1/clients`, { name, scopes }, adminToken);
}

/** Issues a write key to `clientId`; `allowedOrigins` absent = any origin. */
export async function issueWriteKey(
  base: string,
  adminToken: string,
  clientId: string,
  allowedOrigins?: string[],
): Promise<string> {
  const body = await post<WriteKeyDto>(
    'write key',
    201,
    `${base}/v1/clients/${clientId}/write-keys`,
    allowedOrigins ? { allowed_origins: allowedOrigins } : {},
    adminToken,
  );
  return body.write_key;
}

/** The Authorization header of a Segment SDK: the write key as Basic user name, empty password. */
export function writeKeyAuth(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}
