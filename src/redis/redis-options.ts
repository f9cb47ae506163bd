import type { RedisOptions } from 'ioredis';

/** ioredis options from REDIS_URL; the `/N` database index is honoured. */
export function redisOptionsFromUrl(redisUrl: string): RedisOptions {
  const u = new URL(redisUrl);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 2_000,
    // Reconnect forever, at most every 2 s: the service must come back by itself.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
}

/**
 * Options for connections that serve HTTP requests: never queue commands while Redis is down
 * (ioredis' default would make the request hang until Redis is back); fail at once instead.
 */
export function requestPathOptions(base: RedisOptions): RedisOptions {
  return { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_500 };
}
