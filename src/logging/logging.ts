import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/config';

/** A client-supplied request id is kept when it is a short token; anything else gets a fresh UUID. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;

const PINO_LEVEL: Record<AppConfig['logLevel'], string> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
};

/**
 * Fastify's request id (its `genReqId`; pino-http then reuses `req.id`): the request's own
 * `x-request-id` when it is a short token, so one request can be followed across services, else a
 * fresh UUID. Answered in the `x-request-id` header (app.setup.ts).
 */
export function requestId(req: IncomingMessage): string {
  const sent = req.headers['x-request-id'];
  return typeof sent === 'string' && REQUEST_ID_RE.test(sent) ? sent : randomUUID();
}

/**
 * Paths pino blanks in every line, whoever logs the object: credentials must never reach a log.
 * Request lines carry no headers or bodies at all (see the serializers); these catch an object a
 * service logs by mistake.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.client_secret',
  '*.clientSecret',
  '*.access_token',
  '*.write_key',
  '*.writeKey',
  '*.password',
  '*.secret',
  '*.token',
];

/**
 * JSON log lines through pino (nestjs-pino): every line a request causes carries its `reqId`
 * (see requestId). No access line per request: at ingestion rates that would be one write per
 * event; 5xx are logged by the exception filter, refusals at LOG_LEVEL=debug.
 * `LOG_FORMAT=pretty` for humans in development.
 */
export function loggerParams(config: AppConfig): Params {
  const options = {
    level: PINO_LEVEL[config.logLevel],
    autoLogging: false,
    quietReqLogger: true,
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (config.logFormat === 'pretty') {
    return { pinoHttp: { ...options, transport: { target: 'pino-pretty', options: { singleLine: true } } } };
  }
  // process.stdout rather than pino's own fd writer: the same synchronous writes to a pipe or file,
  // and whatever wraps the process's stdout (a test, a supervisor) sees the lines.
  return { pinoHttp: [options, process.stdout] };
}
