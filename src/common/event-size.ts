// The envelope limits on an event's shape: how deep its payload nests and how many bytes its JSON
// takes. Checked by the request (ingestion/envelope.ts) and again by the worker
// (processing/event-checks.ts) on the event as queued, so both ends measure the same thing.
//
// Without recursion: a payload nesting thousands of levels is exactly what this guards against,
// and a recursive walk would overflow the stack on it like JSON.stringify does.

export interface EventLimits {
  /** Levels of nesting allowed in `data` (`data` itself is level 1). */
  maxDepth: number;
  /** Bytes of the event's compact JSON (UTF-8), envelope fields included. */
  maxBytes: number;
}

export type LimitBreach = 'payload_too_deep' | 'event_too_large';

/** Bytes of a JSON number at most ("-2.2250738585072014e-308"). */
const NUMBER_MAX_BYTES = 24;
/** Bytes per UTF-16 code unit of a JSON string at most (a control character or lone surrogate: \uXXXX). */
const UNIT_MAX_BYTES = 6;

// Reused between calls (the walk is synchronous): no allocation per event for the stack itself.
const stack: object[] = [];
const depths: number[] = [];

/**
 * Which limit the event breaks, if any (depth first: it is decided by the walk itself). `event` is a parsed JSON object (what JSON.parse returns:
 * no cycles, no functions) holding the payload in `data`: the event is level 0, `data` level 1, a
 * container inside `data` level 2, and so on up to `maxDepth`.
 *
 * The size is bracketed while walking: a lower bound (each UTF-16 unit is at least one byte, each
 * number at least one) and an upper bound (at most 6 bytes per unit, 24 per number). Only an event
 * whose bounds straddle the limit (over ~11 KB with the default 64 KiB) is serialized to be
 * measured exactly, and the walk has already bounded its depth, so that cannot overflow.
 */
export function checkEventLimits(event: object, limits: EventLimits): LimitBreach | null {
  const { maxDepth, maxBytes } = limits;
  let low = 0;
  let high = 0;
  let n = 0;
  let used = 0;
  stack[n] = event;
  depths[n++] = 0;
  try {
    while (n > 0) {
      if (n > used) used = n;
      const node = stack[--n];
      const depth = depths[n];
      if (Array.isArray(node)) {
        const len = node.length;
        // Brackets and commas.
        low += len > 0 ? len + 1 : 2;
        high += len > 0 ? len + 1 : 2;
        for (let i = 0; i < len; i++) {
          const v: unknown = node[i];
          if (v !== null && typeof v === 'object') {
            if (depth >= maxDepth) return 'payload_too_deep';
            stack[n] = v;
            depths[n++] = depth + 1;
          } else {
            low += scalarLow(v);
            high += scalarHigh(v);
          }
        }
      } else {
        let keys = 0;
        const obj = node as Record<string, unknown>;
        for (const key in obj) {
          keys++;
          // "key": and the comma before the next key.
          low += key.length + 4;
          high += key.length * UNIT_MAX_BYTES + 4;
          const v = obj[key];
          if (v !== null && typeof v === 'object') {
            if (depth >= maxDepth) return 'payload_too_deep';
            stack[n] = v;
            depths[n++] = depth + 1;
          } else {
            low += scalarLow(v);
            high += scalarHigh(v);
          }
        }
        // Braces, minus the comma the last key does not have.
        low += keys > 0 ? 1 : 2;
        high += keys > 0 ? 1 : 2;
      }
    }
  } finally {
    // Drop the references: the reused stack must not keep a request's payload alive.
    if (n > used) used = n;
    for (let i = 0; i < used; i++) stack[i] = EMPTY;
  }
  if (high <= maxBytes) return null;
  if (low > maxBytes) return 'event_too_large';
  return Buffer.byteLength(JSON.stringify(event), 'utf8') > maxBytes ? 'event_too_large' : null;
}

const EMPTY = {};

/** What a breach means, in the words of the request's error and of the quarantine's reason. */
export function limitMessage(breach: LimitBreach, limits: EventLimits): string {
  return breach === 'payload_too_deep'
    ? `nests deeper than ${limits.maxDepth} levels (MAX_PAYLOAD_DEPTH)`
    : `is over ${limits.maxBytes} bytes of JSON (MAX_EVENT_BYTES)`;
}

/** Bytes of a JSON scalar at least. */
function scalarLow(v: unknown): number {
  if (typeof v === 'string') return v.length + 2;
  if (typeof v === 'number') return 1;
  return v === false ? 5 : 4; // true, false, null
}

/** Bytes of a JSON scalar at most. */
function scalarHigh(v: unknown): number {
  if (typeof v === 'string') return v.length * UNIT_MAX_BYTES + 2;
  if (typeof v === 'number') return NUMBER_MAX_BYTES;
  return v === false ? 5 : 4;
}
