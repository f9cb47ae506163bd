// What the worker decides about each queued event, before any I/O. Job data has crossed
// Redis: nothing in it is trusted, the envelope is checked again.
import { type EventLimits, checkEventLimits, limitMessage } from '../common/event-size';
import { CLIENT_ID_MAX_LENGTH, EVENT_TYPE_PART_MAX_LENGTH, SESSION_ID_MAX_LENGTH } from '../common/limits';
import { parseTimestamp } from '../common/timestamp';
import type { QueuedEvent } from '../queue/queue.contract';
import { UNSTORABLE_RE, storableText } from '../common/unstorable';
import { LOWERCASE_UUID_RE } from '../common/uuid';
import { pointerToken } from '../common/json-pointer';
import type { ValidationResult } from '../schemas/validator-registry';

const DAY_MICROS = 86_400_000_000;

export type RejectReason =
  | 'payload_invalid'
  | 'timestamp_in_future'
  | 'timestamp_beyond_retention'
  | 'unknown_event_type'
  | 'payload_unstorable'
  | 'payload_too_deep'
  | 'event_too_large'
  | 'envelope_invalid'
  | 'message_too_large';

export interface RejectError {
  reason: RejectReason;
  path: string;
  message: string;
  /** On the last error of an event whose schema violations were cut at MAX_VIOLATIONS: how many were not kept. */
  omitted?: number;
}

export interface Verdict {
  ok: boolean;
  errors: RejectError[];
}

export interface CheckPolicy {
  maxClockSkewMs: number;
  /** EVENTS_RETENTION_DAYS (0 = forever): an event of a day the retention pass deletes is not stored. */
  retentionDays: number;
  /** MAX_PAYLOAD_DEPTH and MAX_EVENT_BYTES, as the request checked them. */
  limits: EventLimits;
  unknownEventTypes: 'accept' | 'reject';
  /** Violations of the type's schema (at most MAX_VIOLATIONS, plus the count of the rest); null when the type has no schema. */
  validate(category: string, name: string, data: unknown): ValidationResult | null;
}

/**
 * Whether any key or string value is one PostgreSQL jsonb cannot store: the walk every event
 * takes, building no paths (unstorablePaths builds one per key, the larger part of the cost).
 */
export function hasUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE_RE.test(value);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasUnstorable(value[i])) return true;
    return false;
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) if (UNSTORABLE_RE.test(key) || hasUnstorable(obj[key])) return true;
  return false;
}

/** JSON pointers of every key or string value PostgreSQL jsonb cannot store. */
export function unstorablePaths(value: unknown, path: string, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (UNSTORABLE_RE.test(value)) out.push(path);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) unstorablePaths(value[i], `${path}/${i}`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const child = `${path}/${pointerToken(storableText(key))}`;
      if (UNSTORABLE_RE.test(key)) out.push(child);
      unstorablePaths((value as Record<string, unknown>)[key], child, out);
    }
  }
  return out;
}

function str(v: unknown, max: number): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= max && !UNSTORABLE_RE.test(v);
}

/** True when the job's event has the shape the producer guarantees (else it cannot even be quarantined). */
export function isQueuedEvent(e: unknown): e is QueuedEvent {
  if (e === null || typeof e !== 'object') return false;
  const q = e as Record<string, unknown>;
  return (
    typeof q.id === 'string' &&
    LOWERCASE_UUID_RE.test(q.id) &&
    str(q.session_id, SESSION_ID_MAX_LENGTH) &&
    str(q.category, EVENT_TYPE_PART_MAX_LENGTH) &&
    str(q.name, EVENT_TYPE_PART_MAX_LENGTH) &&
    q.data !== null &&
    typeof q.data === 'object' &&
    !Array.isArray(q.data) &&
    typeof q.timestamp === 'string' &&
    parseTimestamp(q.timestamp) !== null &&
    typeof q.received_at === 'string' &&
    parseTimestamp(q.received_at) !== null &&
    str(q.client_id, CLIENT_ID_MAX_LENGTH)
  );
}

/** Errors kept per event (the rest are counted in one more error). */
const MAX_KEPT_ERRORS = 20;
const MAX_ERROR_TEXT = 1_000;
const REQUEST_REASONS = new Set<string>(['envelope_invalid', 'message_too_large']);

/** `s` (or a placeholder) made storable and cut to a column's width. */
const fit = (s: unknown, max: number): string =>
  typeof s === 'string' ? storableText(s.length > max ? s.slice(0, max) : s) : '';

/**
 * The reasons of an event the request already rejected (QueuedEvent.rejected), made to fit the
 * quarantine: null when the event carries none, or lacks what a quarantine row needs (an id, a
 * client, parseable times), which only a producer bug or a hand-made job can cause. Its text
 * fields are fitted in place (cut to their column widths, NUL and lone surrogates replaced), so
 * nothing in it can fail the insert the rest of the batch shares.
 */
export function requestRejection(e: unknown): RejectError[] | null {
  if (e === null || typeof e !== 'object') return null;
  const q = e as Record<string, unknown>;
  if (!Array.isArray(q.rejected) || q.rejected.length === 0) return null;
  if (
    typeof q.id !== 'string' ||
    !LOWERCASE_UUID_RE.test(q.id) ||
    typeof q.timestamp !== 'string' ||
    parseTimestamp(q.timestamp) === null ||
    typeof q.received_at !== 'string' ||
    parseTimestamp(q.received_at) === null ||
    !str(q.client_id, CLIENT_ID_MAX_LENGTH)
  )
    return null;
  q.session_id = fit(q.session_id, SESSION_ID_MAX_LENGTH);
  q.category = fit(q.category, EVENT_TYPE_PART_MAX_LENGTH);
  q.name = fit(q.name, EVENT_TYPE_PART_MAX_LENGTH);
  const errors: RejectError[] = [];
  for (const x of q.rejected.slice(0, MAX_KEPT_ERRORS) as unknown[]) {
    const r = (x ?? {}) as Record<string, unknown>;
    errors.push({
      reason: (typeof r.reason === 'string' && REQUEST_REASONS.has(r.reason)
        ? r.reason
        : 'envelope_invalid') as RejectReason,
      path: fit(r.path, MAX_ERROR_TEXT),
      message: fit(r.message, MAX_ERROR_TEXT) || 'rejected at the request',
    });
  }
  if (q.rejected.length > MAX_KEPT_ERRORS)
    errors.push({
      reason: errors[0].reason,
      path: '',
      message: `and ${q.rejected.length - MAX_KEPT_ERRORS} more error(s)`,
    });
  return errors;
}

/**
 * Decides whether an event is stored or quarantined, and why. Payload bytes PostgreSQL cannot
 * store as-is (`\u0000`, unpaired surrogates) are quarantined (reason payload_unstorable) rather
 * than altered: the quarantine keeps the event's exact JSON text, so nothing is lost and one such
 * event never fails the batch it travels in.
 */
export function checkEvent(e: QueuedEvent, policy: CheckPolicy): Verdict {
  // First, and alone: an event over the limits (queued before they existed, or by a hand-made job)
  // is not walked again, and never given to the schema validator.
  const breach = checkEventLimits(e, policy.limits);
  if (breach !== null) {
    const path = breach === 'payload_too_deep' ? '/data' : '';
    return { ok: false, errors: [{ reason: breach, path, message: limitMessage(breach, policy.limits) }] };
  }
  const errors: RejectError[] = [];
  const ts = parseTimestamp(e.timestamp) as number;
  const received = parseTimestamp(e.received_at) as number;
  if (ts > received + policy.maxClockSkewMs * 1000) {
    errors.push({
      reason: 'timestamp_in_future',
      path: '/timestamp',
      message: `is ${((ts - received) / 1e6).toFixed(3)} s after received_at (MAX_CLOCK_SKEW is ${policy.maxClockSkewMs / 1000} s)`,
    });
  }
  if (policy.retentionDays > 0) {
    // The pass deletes every UTC day before (today - EVENTS_RETENTION_DAYS): the same horizon.
    const horizon = Math.floor(received / DAY_MICROS - policy.retentionDays) * DAY_MICROS;
    if (ts < horizon) {
      errors.push({
        reason: 'timestamp_beyond_retention',
        path: '/timestamp',
        message: `is before ${new Date(horizon / 1000).toISOString().slice(0, 10)}, the first day kept (EVENTS_RETENTION_DAYS is ${policy.retentionDays})`,
      });
    }
  }
  if (hasUnstorable(e.data)) {
    const unstorable = unstorablePaths(e.data, '/data');
    for (const path of unstorable) {
      errors.push({
        reason: 'payload_unstorable',
        path,
        message: 'contains NUL or an unpaired surrogate, which PostgreSQL cannot store',
      });
    }
    return { ok: false, errors };
  }
  const violations = policy.validate(e.category, e.name, e.data);
  if (violations === null) {
    if (policy.unknownEventTypes === 'reject') {
      errors.push({
        reason: 'unknown_event_type',
        path: '',
        message: `no schema for type ${e.category}/${e.name} (UNKNOWN_EVENT_TYPES=reject)`,
      });
    }
  } else {
    for (const v of violations.violations)
      errors.push({ reason: 'payload_invalid', path: v.path, message: v.message });
    if (violations.omitted > 0) {
      errors.push({
        reason: 'payload_invalid',
        path: '/data',
        message: `${violations.omitted} more violations not kept (at most ${violations.violations.length} are kept per event)`,
        omitted: violations.omitted,
      });
    }
  }
  return { ok: errors.length === 0, errors };
}
