/** Why a request or a batch failed. */
export type EyeErrorCode =
  'network_error' | 'timeout' | 'http_error' | 'auth_failed' | 'retries_exhausted' | 'invalid_response';

/** An error of the client; `ids` names the events of a batch that was given up. */
export class EyeError extends Error {
  override readonly name = 'EyeError';
  readonly code: EyeErrorCode;
  /** HTTP status of the last answer, when there was one. */
  readonly status?: number;
  /** Retry-After of the last answer, in ms. */
  readonly retryAfterMs?: number;
  /** The events of the batch that was given up (not stored by this client). */
  readonly ids: string[];

  constructor(
    code: EyeErrorCode,
    message: string,
    extra: { status?: number; retryAfterMs?: number; ids?: string[]; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.status = extra.status;
    this.retryAfterMs = extra.retryAfterMs;
    this.ids = extra.ids ?? [];
  }
}
