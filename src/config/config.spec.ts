import { ConfigError, loadConfig, redactUrl } from './config';

const SECRET = 'x'.repeat(32);

const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe(loadConfig.name, () => {
  it('has defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      nodeEnv: 'development',
      role: 'all',
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/the_eye',
      databaseReadUrl: 'postgresql://postgres@127.0.0.1:5432/the_eye',
      analyticsStatementTimeoutMs: 10_000,
      analyticsPoolSize: 5,
      analyticsMaxConcurrentPerClient: 2,
      redisUrl: 'redis://127.0.0.1:6379',
      jwtSecret: undefined,
      jwtExpiresInSeconds: 3600,
      adminClientId: undefined,
      adminClientSecret: undefined,
      maxClockSkewMs: 300_000,
      unknownEventTypes: 'accept',
      maxBodyBytes: 5 * 1024 * 1024,
      maxPayloadDepth: 32,
      maxEventBytes: 65_536,
      metricsPublic: false,
      maxQueueBacklog: 200_000,
      rateLimitEventsPerSecond: 0,
      rateLimitEventsPerAddress: 50,
      rateLimitEventsPerKey: 0,
      workerConcurrency: 16,
      jobLockMs: 30_000,
      logLevel: 'log',
      logFormat: 'json',
      trustedProxies: [],
      archiveDir: './data/archive',
      duckdbMemoryLimit: '1GB',
      duckdbThreads: 2,
      eventsHotDays: 7,
      dedupeWindowDays: 7,
      eventsRetentionDays: 0,
      rejectedRetentionDays: 0,
      archiveIntervalMs: 3_600_000,
      funnelTimeoutMs: 30_000,
    });
  });

  it('reads the envelope limits and refuses values outside their ranges', () => {
    const config = loadConfig({ MAX_PAYLOAD_DEPTH: '8', MAX_EVENT_BYTES: '4096' });
    expect([config.maxPayloadDepth, config.maxEventBytes]).toEqual([8, 4096]);
    expect(() => loadConfig({ MAX_PAYLOAD_DEPTH: '0' })).toThrow(/MAX_PAYLOAD_DEPTH must be an integer/);
    expect(() => loadConfig({ MAX_PAYLOAD_DEPTH: '5000' })).toThrow(/MAX_PAYLOAD_DEPTH/);
    expect(() => loadConfig({ MAX_EVENT_BYTES: '64k' })).toThrow(/MAX_EVENT_BYTES must be an integer/);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it('treats blank values as unset and trims values', () => {
    const config = loadConfig({ PORT: '  ', ROLE: ' worker ', HOST: ' 127.0.0.1 ' });
    expect(config.port).toBe(3000);
    expect(config.role).toBe('worker');
    expect(config.host).toBe('127.0.0.1');
  });

  it('reads valid values', () => {
    const config = loadConfig({
      PORT: '8080',
      ROLE: 'api',
      NODE_ENV: 'test',
      DATABASE_URL: 'postgres://u:p@db:5432/eye',
      REDIS_URL: 'rediss://cache:6380/2',
      UNKNOWN_EVENT_TYPES: 'reject',
      METRICS_PUBLIC: 'true',
      WORKER_CONCURRENCY: '16',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
    });
    expect(config).toMatchObject({
      port: 8080,
      role: 'api',
      nodeEnv: 'test',
      databaseUrl: 'postgres://u:p@db:5432/eye',
      redisUrl: 'rediss://cache:6380/2',
      unknownEventTypes: 'reject',
      metricsPublic: true,
      workerConcurrency: 16,
      logLevel: 'debug',
      logFormat: 'pretty',
    });
  });

  it('sends analytics reads to DATABASE_READ_URL, else to DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/eye' }).databaseReadUrl).toBe(
      'postgres://u@db:5432/eye',
    );
    const split = loadConfig({
      DATABASE_URL: 'postgres://u@db:5432/eye',
      DATABASE_READ_URL: 'postgres://u@replica:5432/eye',
      ANALYTICS_STATEMENT_TIMEOUT: '2s',
      ANALYTICS_POOL_SIZE: '3',
      ANALYTICS_MAX_CONCURRENT_PER_CLIENT: '4',
    });
    expect(split).toMatchObject({
      databaseUrl: 'postgres://u@db:5432/eye',
      databaseReadUrl: 'postgres://u@replica:5432/eye',
      analyticsStatementTimeoutMs: 2000,
      analyticsPoolSize: 3,
      analyticsMaxConcurrentPerClient: 4,
    });
  });

  it.each([
    ['300', 300_000],
    ['300s', 300_000],
    ['5m', 300_000],
    ['250ms', 250],
    ['1h', 3_600_000],
    ['0', 0],
  ])('reads MAX_CLOCK_SKEW=%s as %i ms', (value, ms) => {
    expect(loadConfig({ MAX_CLOCK_SKEW: value }).maxClockSkewMs).toBe(ms);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['ROLE', 'x'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://root@localhost/the_eye'],
    ['DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['DATABASE_READ_URL', 'mysql://replica/the_eye'],
    ['ANALYTICS_STATEMENT_TIMEOUT', 'forever'],
    ['ANALYTICS_POOL_SIZE', '0'],
    ['MAX_CLOCK_SKEW', 'soon'],
    ['MAX_CLOCK_SKEW', '1.5s'],
    ['MAX_CLOCK_SKEW', '-5m'],
    ['MAX_CLOCK_SKEW', '5 m'],
    ['UNKNOWN_EVENT_TYPES', 'maybe'],
    ['METRICS_PUBLIC', 'yes'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_FORMAT', 'text'],
    ['JWT_EXPIRES_IN', '59'],
    ['MAX_BODY_BYTES', '1023'],
    ['WORKER_CONCURRENCY', '0'],
    ['WORKER_CONCURRENCY', '257'],
    ['JOB_LOCK_MS', '499'],
    ['MAX_QUEUE_BACKLOG', '0'],
    ['JWT_SECRET', 'x'.repeat(31)],
    ['ADMIN_CLIENT_ID', 'bad id!'],
    ['DUCKDB_MEMORY_LIMIT', 'lots'],
    ['DUCKDB_MEMORY_LIMIT', '256'],
    ['DUCKDB_THREADS', '0'],
  ])('refuses %s=%s with a problem naming the variable', (name, value) => {
    const env: NodeJS.ProcessEnv = { [name]: value };
    // Admin credentials come in pairs: give the other half so only the value under test is wrong.
    if (name === 'ADMIN_CLIENT_ID') env.ADMIN_CLIENT_SECRET = 's'.repeat(16);
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it.each([
    ['DATABASE_URL', 'mysql://eye:s3cr3t-pw@db/the_eye'],
    ['DATABASE_URL', 'postgresql://eye:s3cr3t-pw@db:5432'],
    ['DATABASE_URL', 'mysql://eye:s3cr3t@pw/x:y@db/the_eye'],
    ['DATABASE_READ_URL', 'postgres://eye:s3cr3t-pw@replica'],
    ['REDIS_URL', 'http://:s3cr3t-pw@cache:6379'],
    ['REDIS_URL', 'rediss//default:s3cr3t@cache:6379'],
  ])('never echoes the password of a bad %s', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).not.toContain('s3cr3t');
    expect(problems[0]).toContain('***@');
    expect(problems[0]).toContain(name);
  });

  it.each([
    ['postgresql://eye:pw@db:5432/the_eye', 'postgresql://eye:***@db:5432/the_eye'],
    ['redis://:pw@cache:6379/2', 'redis://:***@cache:6379/2'],
    ['postgresql://eye:p@w/x:y@db/the_eye', 'postgresql://eye:***@db/the_eye'],
    ['postgresql://eye@db/the_eye', 'postgresql://eye@db/the_eye'],
    ['not a url', 'not a url'],
    ['rediss//default:pw@cache', '***@cache'],
  ])('redactUrl(%s) = %s', (raw, redacted) => {
    expect(redactUrl(raw)).toBe(redacted);
  });

  it('names the bad value in the message', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual(['PORT must be an integer between 0 and 65535 (got "abc")']);
  });

  it('puts every problem in the error message', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', ROLE: 'x', MAX_CLOCK_SKEW: 'soon' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(3);
    for (const name of ['PORT', 'ROLE', 'MAX_CLOCK_SKEW']) expect(message).toContain(name);
  });

  it.each([
    ['only ADMIN_CLIENT_ID', { ADMIN_CLIENT_ID: 'admin' }],
    ['only ADMIN_CLIENT_SECRET', { ADMIN_CLIENT_SECRET: 's'.repeat(16) }],
  ])('refuses %s', (_label, env) => {
    expect(problemsOf(env)).toEqual(['ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET must be set together']);
  });

  it('refuses a short ADMIN_CLIENT_SECRET', () => {
    expect(problemsOf({ ADMIN_CLIENT_ID: 'admin', ADMIN_CLIENT_SECRET: 's'.repeat(15) })).toEqual([
      'ADMIN_CLIENT_SECRET must be at least 16 characters',
    ]);
  });

  it('accepts the admin pair and a 32-character JWT_SECRET', () => {
    const config = loadConfig({
      JWT_SECRET: SECRET,
      ADMIN_CLIENT_ID: 'admin',
      ADMIN_CLIENT_SECRET: 's'.repeat(16),
    });
    expect(config).toMatchObject({
      jwtSecret: SECRET,
      adminClientId: 'admin',
      adminClientSecret: 's'.repeat(16),
    });
  });

  describe('NODE_ENV=production', () => {
    it('requires JWT_SECRET and the admin client', () => {
      const problems = problemsOf({ NODE_ENV: 'production' });
      expect(problems).toEqual([
        'JWT_SECRET is required when NODE_ENV=production',
        'ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET are required when NODE_ENV=production',
      ]);
    });

    it('requires JWT_SECRET even with the admin client', () => {
      expect(
        problemsOf({ NODE_ENV: 'production', ADMIN_CLIENT_ID: 'admin', ADMIN_CLIENT_SECRET: 's'.repeat(16) }),
      ).toEqual(['JWT_SECRET is required when NODE_ENV=production']);
    });

    it('requires the admin client even with JWT_SECRET', () => {
      expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: SECRET })).toEqual([
        'ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET are required when NODE_ENV=production',
      ]);
    });

    it('starts with all three set', () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET: SECRET,
        ADMIN_CLIENT_ID: 'admin',
        ADMIN_CLIENT_SECRET: 's'.repeat(16),
      });
      expect(config.nodeEnv).toBe('production');
    });
  });

  it('reads TRUSTED_PROXIES as addresses and CIDRs, and names a bad entry', () => {
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.1, 10.1.0.0/16,2001:db8::/32 ' }).trustedProxies).toEqual([
      '10.0.0.1',
      '10.1.0.0/16',
      '2001:db8::/32',
    ]);
    expect(problemsOf({ TRUSTED_PROXIES: '10.0.0.1, proxy.local, 10.0.0.0/33' })).toEqual([
      'TRUSTED_PROXIES must list IP addresses or CIDRs, comma-separated (got "proxy.local")',
      'TRUSTED_PROXIES must list IP addresses or CIDRs, comma-separated (got "10.0.0.0/33")',
    ]);
  });
});
