import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Logger,
  Optional,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ApiError, type ErrorBody, type ErrorCode } from './api-error';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** Over a body limit: which limit, and what to do about it. */
export function bodyTooLarge(limitBytes: number, setting?: string): ErrorBody {
  return {
    code: 'payload_too_large',
    message:
      `The request body is larger than the limit of ${limitBytes} bytes` +
      (setting ? ` (${setting})` : '') +
      ': split the batch into smaller requests',
  };
}

/** A body the route cannot take: which content type to send instead. */
function unsupportedMediaType(request?: Pick<FastifyRequest, 'headers'>): ErrorBody {
  const sent = request?.headers['content-type'];
  const what = sent
    ? `Content-Type ${String(sent).slice(0, 100)} is not accepted`
    : 'The request has no Content-Type';
  return {
    code: 'unsupported_media_type',
    message: `${what}: send the body as JSON with Content-Type: application/json`,
  };
}

const FASTIFY_ERRORS: Record<string, ErrorBody> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'The request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_json', message: 'The request body is empty' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'bad_request',
    message: 'Content-Length does not match the body',
  },
};

/**
 * The SQLSTATE of a PostgreSQL error, from `pg` (code) or from Prisma's driver adapter, which
 * keeps it as `originalCode` on the adapter error's cause (a DriverAdapterError, or
 * `meta.driverAdapterError` of a PrismaClientKnownRequestError).
 */
export function sqlState(err: unknown): string | undefined {
  const e = err as {
    code?: unknown;
    severity?: unknown;
    cause?: { originalCode?: unknown };
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  } | null;
  if (!e || typeof e !== 'object') return undefined;
  const candidates = [
    typeof e.severity === 'string' ? e.code : undefined,
    e.cause?.originalCode,
    e.meta?.driverAdapterError?.cause?.originalCode,
  ];
  return candidates.find((c): c is string => typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c));
}

/** Fastify's own errors (body parsing, limits) carry a code and a statusCode. */
interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/**
 * Where the filter writes: the request's own logger (Fastify's `request.log`, whose lines carry
 * the request id) when there is a request, else Nest's Logger.
 */
export interface ErrorLog {
  error(message: string): void;
  warn(message: string): void;
}

/**
 * Maps every error to the contract's body `{code, message, errors?}`. Unknown errors become a
 * logged 500 that says nothing about the internals (no stack, no SQL).
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  private readonly maxBodyBytes: number;

  constructor(@Optional() @Inject(APP_CONFIG) config?: Pick<AppConfig, 'maxBodyBytes'>) {
    this.maxBodyBytes = config?.maxBodyBytes ?? 5 * 1024 * 1024;
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    this.send(host.switchToHttp().getResponse<FastifyReply>(), exception);
  }

  /** Answers with the contract's error body (also used by routes served outside Nest's pipeline). */
  send(reply: FastifyReply, exception: unknown): void {
    const { status, body, headers } = this.toResponse(exception, reply.log, reply.request);
    // Refusals are the client's business; at LOG_LEVEL=debug they show up with the request's id.
    if (status < 500) reply.log.debug(`${status} ${body.code}: ${body.message}`);
    if (headers) void reply.headers(headers);
    void reply.status(status).send(body);
  }

  /**
   * The status, body and headers for `exception`; unexpected errors are logged to `log`;
   * `request` (its Content-Type) lets a 415 say what was sent.
   */
  toResponse(
    exception: unknown,
    log: ErrorLog = this.logger,
    request?: Pick<FastifyRequest, 'headers'>,
  ): { status: number; body: ErrorBody; headers?: Record<string, string> } {
    if (exception instanceof ApiError) {
      const body: ErrorBody = { code: exception.code, message: exception.message };
      if (exception.errors) body.errors = exception.errors;
      return { status: exception.status, body, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const res = exception.getResponse();
      const raw = typeof res === 'string' ? res : (res as { message?: unknown }).message;
      const message = Array.isArray(raw)
        ? raw.map(String).join('; ')
        : typeof raw === 'string'
          ? raw
          : exception.message;
      if (status >= 500) log.error(exception.stack ?? String(exception));
      // Nest turns Fastify's body-parser errors (FST_ERR_CTP_*) into HttpExceptions with their message.
      if (status === 400 && /JSON/i.test(message)) {
        return { status, body: { code: 'invalid_json', message: 'The request body is not valid JSON' } };
      }
      if (status === 413) return { status, body: bodyTooLarge(this.maxBodyBytes, 'MAX_BODY_BYTES') };
      if (status === 415) return { status, body: unsupportedMediaType(request) };
      return {
        status,
        body: {
          code: CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'),
          message,
        },
      };
    }
    const fe = exception as FastifyLikeError;
    if (
      typeof fe?.code === 'string' &&
      fe.code.startsWith('FST_') &&
      typeof fe.statusCode === 'number' &&
      fe.statusCode < 500
    ) {
      return { status: fe.statusCode, body: this.fastifyBody(fe, request) };
    }
    if (exception instanceof SyntaxError) {
      return { status: 400, body: { code: 'invalid_json', message: 'The request body is not valid JSON' } };
    }
    const state = sqlState(exception);
    if (state?.startsWith('22')) {
      // Data exception: a value of the request PostgreSQL cannot take (bad encoding, out of
      // range, malformed). The client's fault; neither the SQL nor the database's words go out.
      log.warn(`request refused by PostgreSQL with SQLSTATE ${state} (data exception)`);
      return {
        status: 400,
        body: {
          code: 'bad_request',
          message:
            'A value in the request cannot be stored or compared by the database (e.g. NUL characters, unpaired surrogates or an out-of-range number)',
        },
      };
    }
    log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return { status: 500, body: { code: 'internal_error', message: 'Internal server error' } };
  }

  private fastifyBody(fe: FastifyLikeError, request?: Pick<FastifyRequest, 'headers'>): ErrorBody {
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge(this.maxBodyBytes, 'MAX_BODY_BYTES');
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return unsupportedMediaType(request);
    const known = FASTIFY_ERRORS[fe.code ?? ''];
    if (known) return known;
    const status = fe.statusCode ?? 400;
    return { code: CODE_BY_STATUS[status] ?? 'bad_request', message: fe.message ?? 'Bad request' };
  }
}
