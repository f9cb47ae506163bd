// One error vocabulary for every module: throw ApiError (or one of the helpers); the global
// filter (all-exceptions.filter.ts) turns it into `{code, message, errors?}` with its status.

export interface FieldError {
  /** JSON pointer (e.g. "/events/3/timestamp") or parameter name of the offending value. */
  path: string;
  message: string;
}

export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'payload_too_deep'
  | 'event_too_large'
  | 'unauthorized'
  | 'invalid_client'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'queue_unavailable'
  | 'service_unavailable'
  | 'query_timeout'
  | 'internal_error';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  static validation(errors: FieldError[], message = 'The request is not valid'): ApiError {
    return new ApiError(400, 'validation_failed', message, errors);
  }

  static badRequest(message: string, errors?: FieldError[]): ApiError {
    return new ApiError(400, 'bad_request', message, errors);
  }

  static notFound(message: string): ApiError {
    return new ApiError(404, 'not_found', message);
  }

  static unavailable(
    code: 'queue_unavailable' | 'service_unavailable',
    message: string,
    retryAfterS: number,
  ): ApiError {
    return new ApiError(503, code, message, undefined, { 'Retry-After': String(retryAfterS) });
  }

  static rateLimited(message: string, retryAfterS: number): ApiError {
    return new ApiError(429, 'rate_limited', message, undefined, { 'Retry-After': String(retryAfterS) });
  }
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  errors?: FieldError[];
}
