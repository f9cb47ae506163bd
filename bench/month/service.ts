// The compiled service (dist/main.js, ROLE=all) on one of the month bench's databases: the
// issue's settings (EVENTS_HOT_DAYS=2, the timer's pass off: the bench asks for its pass), the
// month's archive, a Redis database emptied first, an admin made up for the run.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { clientToken, registerClient, storesEnv } from '../lib/clients';
import { freePort, type Service, startService, stopChild } from '../lib/service';

export interface MonthStores {
  databaseUrl: string;
  redisUrl: string;
  archiveDir: string;
  logPath: string;
}

export interface MonthService {
  service: Service;
  base: string;
  pid: number | undefined;
  adminToken: string;
  stop: () => Promise<void>;
}

const admin = { id: 'month-admin', secret: randomBytes(18).toString('base64url') };
const jwtEnv = storesEnv('', '', admin);

/** The service's environment: the settings, then `env`. Every process of a run shares its secrets. */
export function monthEnv(s: MonthStores, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'development',
    ...jwtEnv,
    DATABASE_URL: s.databaseUrl,
    REDIS_URL: s.redisUrl,
    ROLE: 'all',
    LOG_LEVEL: 'warn',
    ARCHIVE_DIR: s.archiveDir,
    EVENTS_HOT_DAYS: '2',
    ARCHIVE_INTERVAL: '0',
    ...env,
  };
}

export async function startMonthService(
  s: MonthStores,
  env: NodeJS.ProcessEnv = {},
  flush = true,
  nodeFlags: string[] = [],
): Promise<MonthService> {
  if (flush) {
    const redis = new Redis(s.redisUrl);
    await redis.flushdb();
    redis.disconnect();
  }
  const port = await freePort();
  const service = await startService({
    entry: 'dist/main.js',
    port,
    env: monthEnv(s, env),
    nodeFlags,
    logPath: s.logPath,
    readyPath: '/ready',
    timeoutMs: 300_000,
  });
  const adminToken = await clientToken(service.base, admin.id, admin.secret);
  return {
    service,
    base: service.base,
    pid: service.child.pid,
    adminToken,
    stop: () => stopChild(service.child, 'SIGTERM', 30_000),
  };
}

/** A new writer client of the run and its token. */
export async function writer(m: MonthService, name: string): Promise<{ clientId: string; token: string }> {
  const created = await registerClient(m.base, m.adminToken, `${name} ${new Date().toISOString()}`);
  return {
    clientId: created.client_id,
    token: await clientToken(m.base, created.client_id, created.client_secret),
  };
}
