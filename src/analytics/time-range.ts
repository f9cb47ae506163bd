// Query time bounds: ISO 8601 date-times, or bare dates meaning the whole day (`from` its first
// microsecond, `to` its last), in UTC or in the IANA time zone `tz`.
import { ApiError } from '../common/api-error';
import { formatMicros, parseTimestamp } from '../common/timestamp';

/** Time bounds as RFC 3339 texts with 6 digits (exact for timestamptz(6)); both inclusive. */
export interface TimeRange {
  from?: string;
  to?: string;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size > 1000) formatters.clear();
    formatters.set(tz, f);
  }
  return f;
}

/** An IANA time zone name that both Intl and PostgreSQL know (e.g. Europe/Paris, UTC). */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(tz)) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `tz` from UTC at the instant `ms`, in ms (east positive). */
export function offsetMs(tz: string, ms: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) parts[p.type] = Number(p.value);
  const local = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return local - Math.floor(ms / 1000) * 1000;
}

/** Epoch ms of local midnight starting day y-m-d (day may overflow: Date.UTC normalizes) in tz. */
function zonedMidnightMs(y: number, m: number, d: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d);
  if (tz === 'UTC') return wall;
  // Twice: the offset at the guess may differ from the offset at midnight across a DST change.
  const guess = wall - offsetMs(tz, wall);
  return wall - offsetMs(tz, guess);
}

/** A bound → epoch µs; a bare date is its day's first (`from`) or last (`to`) microsecond in tz. */
export function parseBound(text: string, end: boolean, tz = 'UTC'): number | null {
  const d = DATE_RE.exec(text);
  if (!d) return parseTimestamp(text);
  if (parseTimestamp(`${text}T00:00:00Z`) === null) return null;
  const ms = zonedMidnightMs(+d[1], +d[2], +d[3] + (end ? 1 : 0), tz);
  return ms * 1000 - (end ? 1 : 0);
}

/** from/to (syntax already checked by the DTO) → canonical texts; from after to is a 400. */
export function timeRange(query: { from?: string; to?: string }, tz = 'UTC'): TimeRange {
  const from = query.from === undefined ? null : parseBound(query.from, false, tz);
  const to = query.to === undefined ? null : parseBound(query.to, true, tz);
  if (from !== null && to !== null && from > to) {
    throw ApiError.validation([{ path: '/from', message: 'from must not be after to' }]);
  }
  return {
    from: from === null ? undefined : formatMicros(from),
    to: to === null ? undefined : formatMicros(to),
  };
}
