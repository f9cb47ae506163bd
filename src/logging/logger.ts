import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { FastifyBaseLogger } from 'fastify';
import pino, {
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger,
  type LoggerOptions,
} from 'pino';
import pinoPretty from 'pino-pretty';
import type { AppConfig } from '../config/config';

/** A client-supplied request id is kept when it is a short token; anything else gets a fresh UUID. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The response header (and accepted request header) that carries the request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** The field of every line a request causes (Fastify's `requestIdLogLabel`). */
export const REQUEST_ID_LABEL = 'reqId';

/**
 * Fastify's `genReqId`: the request's own `x-request-id` when it is a short token, so one request
 * can be followed across services, else a fresh UUID. Anything longer or with other characters
 * is not echoed back (header injection, log forging).
 */
export function requestId(req: IncomingMessage): string {
  const sent = req.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && REQUEST_ID_RE.test(sent) ? sent : nextRequestId();
}

// Generated ids are UUID-shaped (v4): a random prefix drawn once per process and a 48-bit counter.
// As unique across processes and restarts as a random UUID per request, for a fraction of its CPU.
const ID_PREFIX = randomUUID().slice(0, 24);
let idCounter = 0;

function nextRequestId(): string {
  idCounter = idCounter === 0xffffffffffff ? 1 : idCounter + 1;
  return ID_PREFIX + idCounter.toString(16).padStart(12, '0');
}

const CENSOR = '[redacted]';

/**
 * Fields pino blanks wherever an object is logged: credentials must never reach a log. No line
 * carries request headers or bodies on purpose; these catch an object logged by mistake.
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'client_secret',
  'clientSecret',
  'access_token',
  'accessToken',
  'write_key',
  'writeKey',
  'password',
  'secret',
  'token',
];
export const REDACTED_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
];

/**
 * Secrets inside text (messages, error messages and stacks): the password of a URL, an HTTP
 * credential, a JWT, and `key=value` / `"key":"value"` pairs of the fields above.
 */
const TEXT_SECRETS: [RegExp, string][] = [
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^@\s]*@/gi, `$1${CENSOR}@`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${CENSOR}`],
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, CENSOR],
  [
    /((?:client_secret|clientSecret|access_token|accessToken|write_key|writeKey|password)["']?\s*[:=]\s*["']?)[^"'&\s,;}]+/gi,
    `$1${CENSOR}`,
  ],
];

export function scrubText(text: string): string {
  let out = text;
  for (const [re, replacement] of TEXT_SECRETS) out = out.replace(re, replacement);
  return out;
}

function scrubArg(arg: unknown): unknown {
  return typeof arg === 'string' ? scrubText(arg) : arg;
}

/** pino's error serializer, with the secrets of the message and stack taken out. */
function errSerializer(err: Error): Record<string, unknown> {
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const key of ['message', 'stack'] as const) {
    if (typeof out[key] === 'string') out[key] = scrubText(out[key]);
  }
  return out;
}

const PINO_LEVEL: Record<AppConfig['logLevel'], pino.Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
};

/** The pino options of the service (exported for the redaction test). */
export function loggerOptions(level: AppConfig['logLevel']): LoggerOptions {
  return {
    level: PINO_LEVEL[level],
    redact: { paths: REDACTED_PATHS, censor: CENSOR },
    serializers: { err: errSerializer },
    hooks: {
      // Strings are scrubbed only on lines actually written (a disabled level never gets here).
      logMethod(args, method) {
        method.apply(this, args.map(scrubArg) as Parameters<typeof method>);
      },
    },
    formatters: {
      // Top-level string fields (e.g. a URL someone logged) get the same treatment as messages.
      log(object) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(object)) out[k] = scrubArg(v);
        return out;
      },
    },
  };
}

/**
 * The one pino logger of the process: JSON lines on stdout (`LOG_FORMAT=json`), or pino-pretty's
 * text for humans (`LOG_FORMAT=pretty`). Fastify derives each request's child logger from it
 * (`request.log`, with `reqId`); Nest's own lines go through `NestPinoLogger`.
 */
export function createRootLogger(
  config: Pick<AppConfig, 'logLevel' | 'logFormat'>,
  destination?: DestinationStream,
): Logger {
  const options = loggerOptions(config.logLevel);
  if (destination) return pino(options, destination);
  if (config.logFormat === 'pretty') {
    // In-process and synchronous (no worker thread): lines are never lost on exit.
    return pino(options, pinoPretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' }));
  }
  // process.stdout rather than pino's own fd writer: the same synchronous writes to a pipe or a
  // file, and whatever wraps the process's stdout (a supervisor, a test) sees the lines.
  return pino(options, process.stdout);
}

const LEVEL_VALUES: Record<string, number> = pino.levels.values;

/**
 * A request's logger (Fastify's `childLoggerFactory`) that becomes a pino child only when the
 * request writes a line at an enabled level. Most requests write none, and a pino child per
 * request (its bindings serialized through the redaction) would cost more CPU than the rest of
 * the logging together on the single-event path.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private real?: FastifyBaseLogger;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.real?.level ?? this.options.level ?? this.parent.level;
  }
  set level(level: string) {
    this.child_().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.child_().child(bindings, options);
  }

  private write(level: pino.Level, args: unknown[]): void {
    if (LEVEL_VALUES[level] < (LEVEL_VALUES[this.level] ?? 0)) return;
    const real = this.child_();
    Reflect.apply(real[level], real, args);
  }

  private child_(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }
}

/** Fastify's `childLoggerFactory` option. */
export function lazyRequestLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(parent, bindings, options);
}

type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
const NEST_TO_PINO: Record<NestLevel, pino.Level> = {
  log: 'info',
  error: 'error',
  warn: 'warn',
  debug: 'debug',
  verbose: 'trace',
  fatal: 'fatal',
};

/**
 * Nest's LoggerService over the pino logger: `new Logger(Context)` lines of services and Nest's
 * own start-up lines become JSON lines with a `context` field. Nest passes the context as the
 * last string argument, and for `error` a stack before it.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: NestLevel, message: unknown, params: unknown[]): void {
    const pinoLevel = NEST_TO_PINO[level];
    if (!this.pino.isLevelEnabled(pinoLevel)) return;
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const fields: Record<string, unknown> = {};
    if (context !== undefined) fields.context = context;
    if (level === 'error' && typeof rest[0] === 'string') fields.stack = rest.shift();
    if (message instanceof Error) {
      fields.err = message;
      this.pino[pinoLevel](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[pinoLevel]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[pinoLevel](fields, String(message));
    }
  }
}
