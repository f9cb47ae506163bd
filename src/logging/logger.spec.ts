import type { IncomingMessage } from 'node:http';
import { LazyRequestLogger, NestPinoLogger, createRootLogger, requestId, scrubText } from './logger';

/** A pino logger at `level` whose JSON lines are kept in `lines`. */
function capture(level: 'error' | 'warn' | 'log' | 'debug' = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = createRootLogger(
    { logLevel: level, logFormat: 'json' },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, text: () => raw.join('') };
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjbGktMSIsInNjb3BlIjoiZXZlbnRzOndyaXRlIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const SECRET = 'sup3r-s3cret-value-0123456789';

describe('logger', () => {
  it('blanks credential fields of logged objects, at the top level and one level down', () => {
    const { logger, lines, text } = capture();
    logger.info(
      {
        client_secret: SECRET,
        req: { headers: { authorization: `Bearer ${JWT}`, cookie: `sid=${SECRET}`, host: 'eye' } },
        body: { client_id: 'cli-1', client_secret: SECRET, access_token: JWT },
        segment: { writeKey: SECRET, write_key: SECRET },
        db: { password: SECRET },
      },
      'token request',
    );
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain(JWT);
    expect(lines[0]).toMatchObject({
      msg: 'token request',
      client_secret: '[redacted]',
      req: { headers: { authorization: '[redacted]', cookie: '[redacted]', host: 'eye' } },
      body: { client_id: 'cli-1', client_secret: '[redacted]', access_token: '[redacted]' },
      segment: { writeKey: '[redacted]', write_key: '[redacted]' },
      db: { password: '[redacted]' },
    });
  });

  it.each([
    [
      'a password in a URL',
      `connect to postgresql://eye:${SECRET}@db:5432/eye failed`,
      'connect to postgresql://eye:[redacted]@db:5432/eye failed',
    ],
    ['a bearer token', `header was Bearer ${JWT}`, 'header was Bearer [redacted]'],
    [
      'a Basic credential (a Segment write key)',
      `Basic ${Buffer.from(`${SECRET}:`).toString('base64')}`,
      'Basic [redacted]',
    ],
    ['a bare JWT', `token ${JWT} expired`, 'token [redacted] expired'],
    ['a form field', `body client_secret=${SECRET}&client_id=a`, 'body client_secret=[redacted]&client_id=a'],
    [
      'a JSON field',
      `{"client_id":"a","client_secret":"${SECRET}"}`,
      '{"client_id":"a","client_secret":"[redacted]"}',
    ],
  ])('takes %s out of messages', (_what, message, expected) => {
    const { logger, lines, text } = capture();
    logger.warn(message);
    expect(lines[0].msg).toBe(expected);
    expect(text()).not.toContain(SECRET);
    expect(text()).not.toContain(JWT);
  });

  it('leaves prose about tokens and secrets alone', () => {
    expect(scrubText('A valid bearer token is required')).toBe('A valid bearer token is required');
    expect(scrubText('created admin client "admin" with secret abc')).toBe(
      'created admin client "admin" with secret abc',
    );
  });

  it("takes secrets out of an error's message and stack, and of top-level string fields", () => {
    const { logger, lines, text } = capture();
    const err = new Error(`getaddrinfo ENOTFOUND redis://:${SECRET}@cache:6379`);
    logger.error({ err, url: `rediss://default:${SECRET}@cache:6380/1` }, 'redis down');
    expect(text()).not.toContain(SECRET);
    expect(lines[0]).toMatchObject({
      msg: 'redis down',
      url: 'rediss://default:[redacted]@cache:6380/1',
      err: { type: 'Error', message: 'getaddrinfo ENOTFOUND redis://:[redacted]@cache:6379' },
    });
  });

  it('writes nothing below LOG_LEVEL (log = info)', () => {
    const { logger, lines } = capture('log');
    logger.debug('hidden');
    logger.info('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});

describe(NestPinoLogger.name, () => {
  it("writes Nest's lines as JSON with their context, an error's stack as a field", () => {
    const { logger, lines } = capture();
    const sut = new NestPinoLogger(logger);
    sut.log('started', 'Bootstrap');
    sut.error('boom', 'Error: boom\n    at x', 'Errors');
    sut.error('no stack', undefined, 'Errors');
    sut.warn(`cannot reach postgres://u:${SECRET}@db/eye`, 'Prisma');
    sut.debug('details');
    sut.verbose('trace-level, below debug');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, context: 'Bootstrap', msg: 'started' }),
      expect.objectContaining({ level: 50, context: 'Errors', msg: 'boom', stack: 'Error: boom\n    at x' }),
      expect.objectContaining({ level: 50, context: 'Errors', msg: 'no stack' }),
      expect.objectContaining({
        level: 40,
        context: 'Prisma',
        msg: 'cannot reach postgres://u:[redacted]@db/eye',
      }),
      expect.objectContaining({ level: 20, msg: 'details' }),
    ]);
    expect(lines[2]).not.toHaveProperty('stack');
    expect(lines[4]).not.toHaveProperty('context');
  });
});

describe('requestId', () => {
  const req = (header?: string) => ({ headers: { 'x-request-id': header } }) as unknown as IncomingMessage;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it("keeps the caller's id when it is a short token", () => {
    expect(requestId(req('abc-123_X.y:z'))).toBe('abc-123_X.y:z');
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['with spaces and quotes', 'a b"<script>'],
    ['with a line break', 'abc\r\nx-evil: 1'],
    ['longer than 64 characters', 'a'.repeat(65)],
  ])('generates a UUID when the header is %s', (_what, header) => {
    expect(requestId(req(header))).toMatch(UUID);
  });

  it('never hands out the same generated id twice', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => requestId(req())));
    expect(ids.size).toBe(1000);
  });
});

describe(LazyRequestLogger.name, () => {
  it('creates no pino child for a request that writes nothing, or only below the level', () => {
    const { logger, lines } = capture('log');
    const childOf = jest.spyOn(logger, 'child');
    const sut = new LazyRequestLogger(logger, { reqId: 'r-1' }, {});
    sut.debug('below LOG_LEVEL');
    sut.trace('below LOG_LEVEL');
    expect(childOf).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it("writes through one child carrying the request's bindings", () => {
    const { logger, lines } = capture('log');
    const childOf = jest.spyOn(logger, 'child');
    const sut = new LazyRequestLogger(logger, { reqId: 'r-2' }, {});
    sut.warn('first');
    sut.error({ err: new Error('boom') }, 'second');
    expect(childOf).toHaveBeenCalledTimes(1);
    expect(childOf).toHaveBeenCalledWith({ reqId: 'r-2' }, {});
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, reqId: 'r-2', msg: 'first' }),
      expect.objectContaining({
        level: 50,
        reqId: 'r-2',
        msg: 'second',
        err: expect.objectContaining({ message: 'boom' }),
      }),
    ]);
  });
});
