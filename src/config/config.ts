// The one place that reads process.env. Validated once at boot into a typed, frozen object;
// a bad value stops the process with a message naming the variable (see main.ts).

import { isIP } from 'node:net';

export type Role = 'api' | 'worker' | 'all';
export type NodeEnv = 'development' | 'production' | 'test';

export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly nodeEnv: NodeEnv;
  readonly role: Role;
  readonly databaseUrl: string;
  /** Where analytics reads go (a read replica, or DATABASE_URL): their own pool, never the worker's. */
  readonly databaseReadUrl: string;
  /** Per-statement limit of the analytics pool; over it a query answers 503 query_timeout. */
  readonly analyticsStatementTimeoutMs: number;
  /** Connections of the analytics pool (the worker and /ready keep theirs whatever analysts do). */
  readonly analyticsPoolSize: number;
  /** Funnels and exports one client may run at once (more: 429 with Retry-After). */
  readonly analyticsMaxConcurrentPerClient: number;
  readonly redisUrl: string;
  /** HS256 key; undefined in development/test means "generate one and share it through the database". */
  readonly jwtSecret: string | undefined;
  readonly jwtExpiresInSeconds: number;
  readonly adminClientId: string | undefined;
  readonly adminClientSecret: string | undefined;
  readonly maxClockSkewMs: number;
  readonly unknownEventTypes: 'accept' | 'reject';
  readonly maxBodyBytes: number;
  /** Levels of nesting allowed in an event's `data` (`data` itself is level 1). */
  readonly maxPayloadDepth: number;
  /** Bytes of one event's JSON as queued (compact, UTF-8, envelope fields included). */
  readonly maxEventBytes: number;
  readonly metricsPublic: boolean;
  /** Queued-but-not-stored events above which ingestion answers 429. */
  readonly maxQueueBacklog: number;
  /** Events per second per client, across all API processes (0 = off); clients may override it. */
  readonly rateLimitEventsPerSecond: number;
  /** Events per second from one source address through the Segment routes from web pages (0 = off). */
  readonly rateLimitEventsPerAddress: number;
  /** Events per second per write key, across all API processes (0 = off: the client's limit applies). */
  readonly rateLimitEventsPerKey: number;
  readonly workerConcurrency: number;
  /** Bull lock/stalled-check period: how fast a job of a killed worker is picked up again. */
  readonly jobLockMs: number;
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug';
  /** `json`: one JSON object per line (pino); `pretty`: pino-pretty's text, for humans. */
  readonly logFormat: 'json' | 'pretty';
  /** Peers whose X-Forwarded-For is believed (addresses/CIDRs); empty: the TCP peer is the source. */
  readonly trustedProxies: readonly string[];
  /** Root of the Parquet archive (src/archive, docs/storage.md): `events/date=YYYY-MM-DD/*.parquet` under it. */
  readonly archiveDir: string;
  /** DuckDB's memory_limit (e.g. `256MB`): it spills to `<archiveDir>/.duckdb-tmp` beyond it. */
  readonly duckdbMemoryLimit: string;
  /** DuckDB threads asked for; the archive module never uses more than the machine's cores. */
  /** UTC days kept in PostgreSQL's day partitions (today included); older closed days move to the archive. */
  readonly eventsHotDays: number;
  /** An id is stored at most once per client within this many days of its first receipt (both tiers). */
  readonly dedupeWindowDays: number;
  /** Events (archive files, per-minute counts) older than this many days are deleted; 0 keeps them forever. */
  readonly eventsRetentionDays: number;
  /** Quarantined events older than this many days (by rejection time) are deleted; 0 keeps them forever. */
  readonly rejectedRetentionDays: number;
  /** How often a worker runs the archive/retention pass by itself; 0 turns the timer off. */
  readonly archiveIntervalMs: number;
  /** Statement limit of a funnel (its own: a month of archived days takes longer than a page). */
  readonly funnelTimeoutMs: number;
  readonly duckdbThreads: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/the_eye';
const DURATION_RE = /^(\d+)(ms|s|m|h)?$/;
const DURATION_UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The URL with its password replaced by `***`, for messages and logs. Works on text that is not
 * a valid URL too (that is when it is echoed): everything between `user:` and the last `@` goes,
 * so a password holding `@`, `/` or `:` is hidden whole; text too malformed to find the user in
 * loses everything before its last `@` when a `:` comes before it.
 */
export function redactUrl(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  const masked = raw.replace(/^([a-z][a-z0-9+.-]*:\/*[^:@/]*:).*@/is, '$1***@');
  if (masked !== raw) return masked;
  const userinfo = raw.slice(0, at).replace(/^[a-z][a-z0-9+.-]*:\/*/i, '');
  return userinfo.includes(':') ? `***@${raw.slice(at + 1)}` : raw;
}

/** `192.0.2.1`, `10.0.0.0/8`, `2001:db8::1`, `2001:db8::/32`. */
function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return def;
    }
    return Number(raw);
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], def: T): T => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return def;
    }
    return raw as T;
  };
  const duration = (name: string, defMs: number): number => {
    const raw = str(name);
    if (raw === undefined) return defMs;
    const m = DURATION_RE.exec(raw);
    if (!m) {
      problems.push(`${name} must be a duration like 300s, 5m, 1h or a number of seconds (got "${raw}")`);
      return defMs;
    }
    // A bare number is seconds.
    return Number(m[1]) * DURATION_UNIT[m[2] ?? 's'];
  };
  const url = (name: string, def: string, protocols: string[]): string => {
    const raw = str(name) ?? def;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      if (u.protocol.startsWith('postgres') && u.pathname.length <= 1) throw new Error('database');
    } catch {
      problems.push(
        `${name} must be a ${protocols.join(' or ')}// URL${name.startsWith('DATABASE_') ? ' with a database name' : ''} (got "${redactUrl(raw)}")`,
      );
    }
    return raw;
  };

  const memoryLimit = (raw: string | undefined): string => {
    if (raw === undefined) return '256MB';
    if (!/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i.test(raw)) {
      problems.push(`DUCKDB_MEMORY_LIMIT must be a size like 256MB or 1GB (got "${raw}")`);
      return '256MB';
    }
    return raw.replace(/\s+/g, '');
  };

  const nodeEnv = oneOf<NodeEnv>('NODE_ENV', ['development', 'production', 'test'], 'development');
  const jwtSecret = str('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32)
    problems.push('JWT_SECRET must be at least 32 characters');
  const adminClientId = str('ADMIN_CLIENT_ID');
  const adminClientSecret = str('ADMIN_CLIENT_SECRET');
  if ((adminClientId === undefined) !== (adminClientSecret === undefined)) {
    problems.push('ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET must be set together');
  }
  if (adminClientSecret !== undefined && adminClientSecret.length < 16) {
    problems.push('ADMIN_CLIENT_SECRET must be at least 16 characters');
  }
  if (adminClientId !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(adminClientId)) {
    problems.push('ADMIN_CLIENT_ID must be 1-64 characters of letters, digits, ".", "_" or "-"');
  }
  if (nodeEnv === 'production') {
    if (jwtSecret === undefined) problems.push('JWT_SECRET is required when NODE_ENV=production');
    if (adminClientId === undefined) {
      problems.push('ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET are required when NODE_ENV=production');
    }
  }
  const trustedProxies = (str('TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of trustedProxies) {
    if (!isAddressOrCidr(p)) {
      problems.push(`TRUSTED_PROXIES must list IP addresses or CIDRs, comma-separated (got "${p}")`);
    }
  }
  const metricsPublic = oneOf('METRICS_PUBLIC', ['true', 'false'], 'false') === 'true';

  const config: AppConfig = {
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    nodeEnv,
    role: oneOf<Role>('ROLE', ['api', 'worker', 'all'], 'all'),
    databaseUrl: url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgresql:', 'postgres:']),
    databaseReadUrl:
      str('DATABASE_READ_URL') === undefined
        ? (str('DATABASE_URL') ?? DEFAULT_DATABASE_URL)
        : url('DATABASE_READ_URL', '', ['postgresql:', 'postgres:']),
    analyticsStatementTimeoutMs: duration('ANALYTICS_STATEMENT_TIMEOUT', 10_000),
    analyticsPoolSize: int('ANALYTICS_POOL_SIZE', 5, 1, 100),
    analyticsMaxConcurrentPerClient: int('ANALYTICS_MAX_CONCURRENT_PER_CLIENT', 2, 1, 1_000),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    jwtSecret,
    jwtExpiresInSeconds: int('JWT_EXPIRES_IN', 3600, 60, 86_400),
    adminClientId,
    adminClientSecret,
    maxClockSkewMs: duration('MAX_CLOCK_SKEW', 5 * 60_000),
    unknownEventTypes: oneOf('UNKNOWN_EVENT_TYPES', ['accept', 'reject'], 'accept'),
    maxBodyBytes: int('MAX_BODY_BYTES', 5 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    // At most 1,000: the queue and the database driver serialize payloads recursively.
    maxPayloadDepth: int('MAX_PAYLOAD_DEPTH', 32, 1, 1_000),
    maxEventBytes: int('MAX_EVENT_BYTES', 65_536, 1_024, 16 * 1024 * 1024),
    metricsPublic,
    maxQueueBacklog: int('MAX_QUEUE_BACKLOG', 200_000, 1, 100_000_000),
    rateLimitEventsPerSecond: int('RATE_LIMIT_EVENTS_PER_SECOND', 0, 0, 1_000_000),
    rateLimitEventsPerAddress: int('RATE_LIMIT_EVENTS_PER_ADDRESS', 50, 0, 1_000_000),
    rateLimitEventsPerKey: int('RATE_LIMIT_EVENTS_PER_KEY', 0, 0, 1_000_000),
    workerConcurrency: int('WORKER_CONCURRENCY', 16, 1, 256),
    jobLockMs: int('JOB_LOCK_MS', 30_000, 500, 600_000),
    logLevel: oneOf('LOG_LEVEL', ['error', 'warn', 'log', 'debug'], 'log'),
    logFormat: oneOf('LOG_FORMAT', ['json', 'pretty'], 'json'),
    trustedProxies: Object.freeze(trustedProxies),
    archiveDir: str('ARCHIVE_DIR') ?? './data/archive',
    duckdbMemoryLimit: memoryLimit(str('DUCKDB_MEMORY_LIMIT')),
    duckdbThreads: int('DUCKDB_THREADS', 2, 1, 256),
    eventsHotDays: int('EVENTS_HOT_DAYS', 7, 0, 3_650),
    dedupeWindowDays: int('DEDUPE_WINDOW_DAYS', 7, 1, 3_650),
    eventsRetentionDays: int('EVENTS_RETENTION_DAYS', 0, 0, 36_500),
    rejectedRetentionDays: int('REJECTED_RETENTION_DAYS', 0, 0, 36_500),
    archiveIntervalMs: duration('ARCHIVE_INTERVAL', 3_600_000),
    funnelTimeoutMs: duration('FUNNEL_TIMEOUT', 30_000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** Injection token for the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
