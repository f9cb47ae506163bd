export {
  EyeClient,
  MAX_BATCH_EVENTS,
  type DropReason,
  type DroppedEvent,
  type EyeClientEvents,
  type EyeClientOptions,
  type EyeEvent,
  type FieldError,
  type RejectedEvent,
  type SentBatch,
} from './client';
export { EyeError, type EyeErrorCode } from './errors';
export { TokenProvider } from './token';
export { backoffDelay, parseRetryAfter } from './retry';
export { uuidv7 } from './uuid';
