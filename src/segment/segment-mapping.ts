// Segment's HTTP Tracking API messages → The Eye's events (README "Segment-compatible ingestion").
// Pure and synchronous: a few µs per message, no I/O.
import type { FieldError } from '../common/api-error';
import { type EventLimits, checkEventLimits } from '../common/event-size';
import { formatMicros, parseTimestamp } from '../common/timestamp';
import { EVENT_TYPE_PART_MAX_LENGTH, SESSION_ID_MAX_LENGTH } from '../common/limits';
import { UNSTORABLE_RE } from '../common/unstorable';
import { checkEnvelope } from '../ingestion/envelope';
import { uuidv5, uuidv7 } from '../common/uuid';
import type { QueuedEvent, RequestRejection } from '../queue/queue.contract';
import type { MergedSize } from './merged-size';

export const SEGMENT_CALLS = ['track', 'page', 'screen', 'identify', 'group', 'alias'] as const;
export type SegmentCall = (typeof SEGMENT_CALLS)[number];
const CALLS = new Set<string>(SEGMENT_CALLS);

/** Segment's own limit per message (its JSON). */
export const MAX_MESSAGE_BYTES = 32 * 1024;

/**
 * Namespace of the UUIDv5 ids made from (client id, messageId): fixed forever, or a retried
 * message would get a new id after an upgrade and be stored twice.
 */
const ID_NAMESPACE = Buffer.from('5e6d3f3a1c8b4e0f9a2d7b6c4e1f0a93', 'hex');

/** What the messages of one request share. */
export interface RequestContext {
  clientId: string;
  /** MAX_PAYLOAD_DEPTH / MAX_EVENT_BYTES, as for /v1/events. */
  limits: EventLimits;
  /** Server clock at ingestion, µs, and as RFC 3339 text. */
  receivedMicros: number;
  receivedAt: string;
  /** The request's `sentAt` (raw), applying to messages without their own. */
  sentAt?: unknown;
  /** The request's `context` / `integrations`, merged under each message's own. */
  context?: Record<string, unknown>;
  integrations?: Record<string, unknown>;
  /** What merging those adds to a message, known before any copy; absent when nothing is merged. */
  merge?: MergedSize;
  /**
   * Bytes of the body not yet accounted for by a measured message: while it is over
   * MAX_MESSAGE_BYTES a message may be too large and is measured (its compact JSON is never longer
   * than its text in the body); once under, no later one can be, and none is measured. Infinity
   * when the body's length is unknown.
   */
  unmeasuredBytes: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A usable identifier: a non-empty string, or a number (some SDKs send numeric user ids). */
const ident = (v: unknown): string | undefined =>
  typeof v === 'string' ? (v === '' ? undefined : v) : typeof v === 'number' ? String(v) : undefined;

/** The event id of a message: deterministic from its messageId, so an SDK retry is stored once. */
export function eventIdOf(clientId: string, messageId: unknown): string {
  const id = ident(messageId);
  return id === undefined ? uuidv7() : uuidv5(`${clientId}:${id}`, ID_NAMESPACE);
}

/**
 * Below this gap between a request's `sentAt` and its arrival, the device's clock is taken as right.
 * The gap is then transit and queueing, which differ from one request to the next: "correcting"
 * by it would shuffle the calls of a page sent in separate requests a few milliseconds apart
 * (a page's calls must keep the order the page made them). Beyond it, the device clock is off.
 */
export const SKEW_TOLERANCE_MICROS = 2_000_000;

/**
 * When it happened, corrected for the device's clock: receivedAt − (sentAt − timestamp) when the
 * device's clock is off by more than SKEW_TOLERANCE_MICROS, else the timestamp as sent. Without
 * sentAt the timestamp is taken as it is; without a timestamp, the time it was received.
 * null: the timestamp (or sentAt) is present but not an ISO 8601 date-time.
 */
export function correctedTimestamp(
  timestamp: unknown,
  sentAt: unknown,
  receivedMicros: number,
): number | null {
  if (timestamp === undefined || timestamp === null) return receivedMicros;
  const ts = typeof timestamp === 'string' ? parseTimestamp(timestamp) : null;
  if (ts === null) return null;
  if (sentAt === undefined || sentAt === null) return ts;
  const sent = typeof sentAt === 'string' ? parseTimestamp(sentAt) : null;
  if (sent === null) return null;
  const skew = sent - receivedMicros;
  if (skew <= SKEW_TOLERANCE_MICROS && skew >= -SKEW_TOLERANCE_MICROS) return ts;
  return receivedMicros - (sent - ts);
}

/** Where each mapped field came from, to name the message's own field in an error. */
const SOURCE_PATHS: Record<string, string> = {
  '/id': '/messageId',
  '/category': '/properties/category',
  '/data': '',
};

/**
 * Maps one message (its `type` forced by the single-call routes) to a queued event. A message
 * that cannot become a valid event is still returned, carrying `rejected` reasons: the worker
 * quarantines it (the SDK gets 200 for the whole request; a 400 would make it drop every message).
 */
export function mapMessage(raw: unknown, base: string, ctx: RequestContext, call?: SegmentCall): QueuedEvent {
  const m: Record<string, unknown> = isObject(raw) ? raw : { value: raw };
  const errors: RequestRejection[] = [];
  if (!isObject(raw))
    errors.push({ reason: 'envelope_invalid', path: base || '/', message: 'must be a JSON object' });

  // The limit holds once the request's context is merged: measured as sent against what is left of
  // it after the merge's bytes (known up front), so a message too large once merged is never built.
  const extra = ctx.merge?.extra(m) ?? 0;
  const room = MAX_MESSAGE_BYTES - extra;
  const tooLarge = ctx.unmeasuredBytes > room && measureOver(raw, room, ctx);
  // The message itself (parsed for this request only), minus the key, plus what it inherits: kept
  // whole if quarantined, without the fields that became columns if stored (storedData). One too
  // large is quarantined as sent, without the inherited values (which made it too large).
  const data = m;
  if (data.writeKey !== undefined) delete data.writeKey;
  if (call) data.type = call;
  const type = data.type;
  const sessionInContext = mergedSessionId(m.context, ctx.context);
  if (!tooLarge) inherit(data, ctx);
  const sentAt = m.sentAt ?? ctx.sentAt;

  let kind: string;
  if (typeof type === 'string' && CALLS.has(type)) kind = type;
  else {
    kind = 'unknown';
    if (isObject(raw))
      errors.push({
        reason: 'envelope_invalid',
        path: `${base}/type`,
        message: `must be one of ${SEGMENT_CALLS.join(', ')}`,
      });
  }

  const props = isObject(m.properties) ? m.properties : undefined;
  const named = kind === 'track' ? m.event : kind === 'page' || kind === 'screen' ? m.name : undefined;
  const name = named === undefined || named === null || named === '' ? kind : named;
  const category = typeof props?.category === 'string' && props.category !== '' ? props.category : kind;
  let sessionPath = '/context/sessionId';
  let session = ident(sessionInContext);
  if (session === undefined) {
    sessionPath = '/properties/session_id';
    session = ident(props?.session_id);
  }
  if (session === undefined) {
    sessionPath = '/anonymousId';
    session = ident(m.anonymousId);
  }
  if (session === undefined) {
    sessionPath = '/userId';
    session = ident(m.userId);
  }
  if (session === undefined && isObject(raw))
    errors.push({
      reason: 'envelope_invalid',
      path: base || '/',
      message: 'no session: set context.sessionId, properties.session_id, anonymousId or userId',
    });

  const micros = correctedTimestamp(m.timestamp, sentAt, ctx.receivedMicros);
  if (micros === null)
    errors.push({
      reason: 'envelope_invalid',
      path: `${base}/${ts(m.timestamp) ? 'sentAt' : 'timestamp'}`,
      message: 'must be an ISO 8601 date-time such as 2021-01-01T09:15:27.243Z',
    });
  const timestamp = formatMicros(micros ?? ctx.receivedMicros);
  const id = eventIdOf(ctx.clientId, m.messageId);

  if (tooLarge)
    errors.push({
      reason: 'message_too_large',
      path: base || '/',
      message:
        `is larger than ${MAX_MESSAGE_BYTES} bytes of JSON (Segment's limit per message)` +
        (extra > 0
          ? " once the request's context and integrations are merged: kept as sent, without them"
          : ''),
    });

  if (errors.length === 0 && micros !== null) {
    const nameKey = kind === 'track' ? 'event' : kind === 'page' || kind === 'screen' ? 'name' : '';
    const stored = storedData(data, data[nameKey] === name ? nameKey : '');
    const event = wellFormed(id, session, category, name, stored, timestamp, micros, ctx);
    if (event !== null) return event;
  }
  const envelope = { id, session_id: session, category, name, data, timestamp };
  if (errors.length === 0) {
    const checked = checkEnvelope(envelope, '', ctx.receivedAt, ctx.clientId, ctx.limits);
    if (checked.ok) return checked.event;
    for (const e of checked.errors) errors.push(rejection(e, base, kind, sessionPath));
  }
  // Nesting past MAX_PAYLOAD_DEPTH may be too deep to serialize at all (JSON.stringify recurses): the
  // quarantine keeps the message's top-level values only, so the job and the worker's batch are safe.
  const storable = checkEventLimits({ data }, ctx.limits) === 'payload_too_deep' ? flatCopy(data) : data;
  if (storable !== data)
    errors.push({
      reason: 'envelope_invalid',
      path: base || '/',
      message: `nests deeper than ${ctx.limits.maxDepth} levels (MAX_PAYLOAD_DEPTH): only its top-level values are kept`,
    });
  return {
    id,
    session_id: session ?? '',
    category,
    name: typeof name === 'string' ? name : kind,
    data: storable,
    // The quarantine needs a time it can store: a corrected one out of range falls back too.
    timestamp: parseTimestamp(timestamp) === null ? ctx.receivedAt : timestamp,
    received_at: ctx.receivedAt,
    client_id: ctx.clientId,
    rejected: errors,
  };
}

/** Merges the request's context/integrations/sentAt under the message's own (in place). */
function inherit(data: Record<string, unknown>, ctx: RequestContext): void {
  if (ctx.context) data.context = isObject(data.context) ? { ...ctx.context, ...data.context } : ctx.context;
  if (ctx.integrations)
    data.integrations = isObject(data.integrations)
      ? { ...ctx.integrations, ...data.integrations }
      : ctx.integrations;
  if (data.sentAt === undefined && ctx.sentAt !== undefined) data.sentAt = ctx.sentAt;
}

/** `sessionId` of the merged context, read without merging (the message's own key wins). */
const mergedSessionId = (own: unknown, shared: Record<string, unknown> | undefined): unknown =>
  isObject(own) && Object.hasOwn(own, 'sessionId') ? own.sessionId : shared?.sessionId;

/** The range parseTimestamp accepts (years 1700-2254), in epoch µs. */
const MIN_MICROS = Date.UTC(1700, 0, 1) * 1000;
const MAX_MICROS = Date.UTC(2255, 0, 1) * 1000;

const fits = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max && !UNSTORABLE_RE.test(v);

/**
 * The queued event of a message whose mapped fields are all valid, or null to let checkEnvelope
 * say what is wrong. The usual case: it skips re-checking what this module made (its own UUID,
 * its own formatted timestamp), which checkEnvelope would parse again for every message.
 */
function wellFormed(
  id: string,
  session: string | undefined,
  category: unknown,
  name: unknown,
  data: Record<string, unknown>,
  timestamp: string,
  micros: number,
  ctx: RequestContext,
): QueuedEvent | null {
  if (
    micros < MIN_MICROS ||
    micros >= MAX_MICROS ||
    !fits(session, SESSION_ID_MAX_LENGTH) ||
    !fits(category, EVENT_TYPE_PART_MAX_LENGTH) ||
    !fits(name, EVENT_TYPE_PART_MAX_LENGTH)
  )
    return null;
  const event: QueuedEvent = {
    id,
    session_id: session,
    category,
    name,
    data,
    timestamp,
    received_at: ctx.receivedAt,
    client_id: ctx.clientId,
  };
  return checkEventLimits(event, ctx.limits) === null ? event : null;
}

/**
 * Whether the JSON of `value` is over `max` bytes (UTF-8: 1 to 3 bytes per UTF-16 unit); takes
 * at least its length off `ctx.unmeasuredBytes`.
 */
function measureOver(value: unknown, max: number, ctx: RequestContext): boolean {
  let json: string;
  try {
    json = JSON.stringify(value) ?? '';
  } catch {
    return true; // nested too deep to serialize: over any limit (and quarantined as such)
  }
  ctx.unmeasuredBytes -= json.length;
  if (json.length > max) return true;
  if (json.length * 3 <= max) return false;
  return Buffer.byteLength(json) > max;
}

/**
 * The top-level values of a message that `keep` accepts, as a new object. A copy rather than
 * `delete`, which would leave the object in V8's slow dictionary mode for JSON.stringify.
 */
function copyKeys(
  m: Record<string, unknown>,
  keep: (key: string, value: unknown) => boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in m) {
    const v = m[key];
    if (!keep(key, v)) continue;
    // An own "__proto__" key (JSON.parse makes one) assigned would set the prototype instead.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

/**
 * What a stored event keeps of its message: all but `messageId` (its id is made from it) and the
 * field that became its name; the quarantine keeps the message whole.
 */
const storedData = (m: Record<string, unknown>, nameKey: string): Record<string, unknown> =>
  copyKeys(m, (key) => key !== 'messageId' && key !== nameKey);

/** The scalar top-level values of a message (for one nested too deep to keep whole). */
const flatCopy = (m: Record<string, unknown>): Record<string, unknown> =>
  copyKeys(m, (_key, v) => v === null || typeof v !== 'object');

/** True when the timestamp itself parses (so a failed correction is sentAt's fault). */
const ts = (v: unknown): boolean =>
  v === undefined || v === null || (typeof v === 'string' && parseTimestamp(v) !== null);

/** An envelope error, its path naming the message's field the value came from. */
function rejection(e: FieldError, base: string, kind: string, sessionPath: string): RequestRejection {
  const source =
    e.path === '/name'
      ? kind === 'track'
        ? '/event'
        : '/name'
      : e.path === '/session_id'
        ? sessionPath
        : (SOURCE_PATHS[e.path] ?? e.path);
  return { reason: 'envelope_invalid', path: `${base}${source}`, message: e.message };
}
