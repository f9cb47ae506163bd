// The queue contract, owned by neither producer (ingestion) nor consumer (processing).
import type { JobOptions } from 'bull';

export const EVENTS_QUEUE = 'events';
/**
 * One job holds the events of one or more requests (see ingestion/event-producer.service.ts), in
 * the order they were accepted. Jobs get Bull's own ids (an INCR in Redis when the job is added,
 * before any of its requests is answered): the worker orders arrivals by them (never set a jobId).
 */
export const INGEST_JOB = 'ingest';
/** Redis key prefix of the Bull queue and of The Eye's own keys. */
export const QUEUE_PREFIX = 'the-eye';
/**
 * Hash of events queued but not yet stored or quarantined: field = queuedField(id, client id),
 * value = queuedMark() (client id and the id of the job carrying the event). Written by the producer
 * before the job is added, fields deleted by the worker after commit; a mark whose job is gone or
 * failed for good (a crash between mark and job, a job that died) is removed by
 * processing/queued-marks.sweeper.ts. Its length is the backlog the 429 limit applies to; a field
 * answers GET /v1/events/{id} "queued".
 */
export const QUEUED_EVENTS_KEY = `${QUEUE_PREFIX}:queued-events`;

/** A mark's value: `client id <TAB> job id` (the job id last: a client id could hold a tab). */
export const queuedMark = (clientId: string, jobId: string): string => `${clientId}\t${jobId}`;

/** The parts of a mark's value; a mark without a job id (written by hand) has `jobId` undefined. */
export function parseQueuedMark(value: string): { clientId: string; jobId?: string } {
  const tab = value.lastIndexOf('\t');
  return tab < 0 ? { clientId: value } : { clientId: value.slice(0, tab), jobId: value.slice(tab + 1) };
}

/**
 * The field of an event in QUEUED_EVENTS_KEY: ids belong to their client, so two clients' events
 * with the same id are two fields. The id (a lower-case UUID, always 36 characters) comes first:
 * `HSCAN … MATCH <id>:*` finds every client's.
 */
export const queuedField = (id: string, clientId: string): string => `${id}:${clientId}`;

/**
 * An event that passed the request's envelope checks, normalised; without `rejected`, also the
 * shape in which the API returns a stored event.
 */
export interface QueuedEvent {
  id: string;
  session_id: string;
  category: string;
  name: string;
  data: Record<string, unknown>;
  /** Client timestamp, RFC 3339 UTC with 6 fractional digits. */
  timestamp: string;
  /** Server clock at ingestion, RFC 3339 UTC with 6 fractional digits. */
  received_at: string;
  client_id: string;
  /**
   * The arrival order, as a decimal bigint: set by the worker from the job id and the event's
   * position in the job (processing/arrival-order.ts), never sent by the API.
   */
  seq?: string;
  /**
   * Set when the request already found the event bad but must still keep it (Segment ingestion
   * answers 200 and quarantines a bad message): the worker quarantines it with these reasons,
   * without validating it. Its envelope fields then only fit the quarantine's columns.
   */
  rejected?: RequestRejection[];
}

/** A reason found at the request, in the quarantine's vocabulary (processing/event-checks.ts). */
export interface RequestRejection {
  reason: 'envelope_invalid' | 'message_too_large';
  path: string;
  message: string;
}

export interface IngestJobData {
  v: 1;
  events: QueuedEvent[];
}

/**
 * Retried with exponential backoff through about two hours of database trouble, then kept as failed (never
 * removed): nothing accepted is lost. Completed jobs are removed at once: a kept job costs
 * ~1.3 KB of Redis per event.
 */
export const DEFAULT_JOB_OPTIONS: JobOptions = {
  attempts: 15,
  backoff: { type: 'exponential', delay: 250 },
  removeOnComplete: true,
  removeOnFail: false,
};
