// The request-time checks of an event (cheap, synchronous, ~1 µs): envelope fields and types,
// lengths, parseable timestamp, payload depth and event size. Payload validation happens in the worker.
import type { FieldError } from '../common/api-error';
import { type EventLimits, type LimitBreach, checkEventLimits, limitMessage } from '../common/event-size';
import { EVENT_TYPE_PART_MAX_LENGTH, SESSION_ID_MAX_LENGTH } from '../common/limits';
import { formatMicros, parseTimestamp } from '../common/timestamp';
import type { QueuedEvent } from '../queue/queue.contract';
import { UNSTORABLE_RE } from '../common/unstorable';
import { UUID_RE, uuidv7 } from '../common/uuid';

const ALLOWED = new Set(['id', 'session_id', 'category', 'name', 'data', 'timestamp']);

export type EnvelopeResult =
  | { ok: true; event: QueuedEvent }
  /** `breach` when the envelope is fine but the event is over MAX_PAYLOAD_DEPTH or MAX_EVENT_BYTES. */
  | { ok: false; errors: FieldError[]; breach?: LimitBreach };

function checkString(value: unknown, path: string, max: number, errors: FieldError[]): value is string {
  if (typeof value !== 'string') {
    errors.push({ path, message: value === undefined ? 'is required' : 'must be a string' });
    return false;
  }
  if (value.length < 1 || value.length > max) {
    errors.push({ path, message: `must be 1-${max} characters long` });
    return false;
  }
  if (UNSTORABLE_RE.test(value)) {
    errors.push({ path, message: 'must not contain NUL characters or unpaired surrogates' });
    return false;
  }
  return true;
}

/**
 * Checks one event envelope. `base` prefixes the JSON-pointer paths of its errors
 * (e.g. "/events/3"). On success the event is normalised: id lower-cased or a new UUIDv7,
 * timestamp as RFC 3339 UTC with 6 digits, received_at and client_id added. The limits apply to
 * the normalised event, exactly as the worker will see it (and re-check it).
 */
export function checkEnvelope(
  raw: unknown,
  base: string,
  receivedAt: string,
  clientId: string,
  limits: EventLimits,
): EnvelopeResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: base || '/', message: 'must be a JSON object' }] };
  }
  const e = raw as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const key in e) {
    if (!ALLOWED.has(key)) errors.push({ path: `${base}/${key}`, message: 'is not an event field' });
  }
  let id: string | undefined;
  if (e.id !== undefined && e.id !== null) {
    if (typeof e.id !== 'string' || !UUID_RE.test(e.id))
      errors.push({ path: `${base}/id`, message: 'must be a UUID' });
    else id = e.id.toLowerCase();
  }
  const sessionOk = checkString(e.session_id, `${base}/session_id`, SESSION_ID_MAX_LENGTH, errors);
  const categoryOk = checkString(e.category, `${base}/category`, EVENT_TYPE_PART_MAX_LENGTH, errors);
  const nameOk = checkString(e.name, `${base}/name`, EVENT_TYPE_PART_MAX_LENGTH, errors);
  const data = e.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    errors.push({
      path: `${base}/data`,
      message: data === undefined ? 'is required' : 'must be a JSON object',
    });
  }
  let timestamp: string | undefined;
  if (typeof e.timestamp !== 'string') {
    errors.push({
      path: `${base}/timestamp`,
      message: e.timestamp === undefined ? 'is required' : 'must be a string',
    });
  } else {
    const micros = parseTimestamp(e.timestamp);
    if (micros === null) {
      errors.push({
        path: `${base}/timestamp`,
        message:
          'must be an ISO 8601 date-time (years 1700-2254) such as 2021-01-01 09:15:27.243860 or 2021-01-01T09:15:27Z',
      });
    } else timestamp = formatMicros(micros);
  }
  if (errors.length || !sessionOk || !categoryOk || !nameOk || timestamp === undefined)
    return { ok: false, errors };
  const event: QueuedEvent = {
    id: id ?? uuidv7(),
    session_id: e.session_id as string,
    category: e.category as string,
    name: e.name as string,
    data: data as Record<string, unknown>,
    timestamp,
    received_at: receivedAt,
    client_id: clientId,
  };
  const breach = checkEventLimits(event, limits);
  if (breach !== null) return { ok: false, errors: [limitError(breach, base, limits)], breach };
  return { ok: true, event };
}

/** The field error of a limit breach (the same words for the request's 400/413 and a batch's result). */
export function limitError(breach: LimitBreach, base: string, limits: EventLimits): FieldError {
  const path = breach === 'payload_too_deep' ? `${base}/data` : base || '/';
  return { path, message: limitMessage(breach, limits) };
}
