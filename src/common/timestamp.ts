// Microsecond timestamps. JS Date keeps milliseconds only, so timestamps travel as epoch
// microseconds (an exact JS number only between the years ~1685 and ~2255: years outside
// 1700-2254 are refused rather than silently rounded) and as RFC 3339 text with 6 fractional digits,
// which PostgreSQL timestamptz(6) stores exactly.

const TS_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MIN_YEAR = 1700;
const MAX_YEAR = 2254;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

// Small memos: the events of a batch share received_at and often their timestamp (the worker
// parses both, alternately), and formatting mostly stays within one second, so most calls skip
// the regular expression and the Date work.
const parsedText = ['', ''];
const parsedValue: (number | null)[] = [null, null];
let parsedNext = 0;
let lastFormattedSecond = NaN;
let lastFormattedPrefix = '';

/**
 * ISO 8601 date-time with `T` or a space, 0–6 fractional digits, `Z`, `±hh:mm`, `±hhmm` or no
 * zone (= UTC) → epoch microseconds; null when it is not one or names an impossible date.
 */
export function parseTimestamp(text: string): number | null {
  if (text === parsedText[0]) return parsedValue[0];
  if (text === parsedText[1]) return parsedValue[1];
  const value = parseUncached(text);
  parsedText[parsedNext] = text;
  parsedValue[parsedNext] = value;
  parsedNext ^= 1;
  return value;
}

function parseUncached(text: string): number | null {
  const m = TS_RE.exec(text);
  if (!m) return null;
  const year = +m[1];
  const month = +m[2];
  const day = +m[3];
  const hour = +m[4];
  const minute = +m[5];
  const second = +m[6];
  if (
    year < MIN_YEAR ||
    year > MAX_YEAR ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month)
  )
    return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = +m[10];
    const om = +m[11];
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const micros = m[7] === undefined ? 0 : +m[7].padEnd(6, '0');
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  return ms * 1000 + micros - offsetMinutes * 60_000_000;
}

/** Like parseTimestamp, and also a bare date (`2021-01-01` = midnight UTC): for query filters. */
export function parseTimestampOrDate(text: string): number | null {
  const d = DATE_RE.exec(text);
  if (d) return parseTimestamp(`${text}T00:00:00Z`);
  return parseTimestamp(text);
}

/** Epoch microseconds → `2021-01-01T09:15:27.243860Z`. */
export function formatMicros(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  if (second !== lastFormattedSecond) {
    lastFormattedSecond = second;
    lastFormattedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${lastFormattedPrefix}.${String(micros - second * 1_000_000).padStart(6, '0')}Z`;
}

/** The server clock, with microseconds. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
