/**
 * Time ranges, buckets and how times are written. A range is half-open, [from, to), and made of
 * whole buckets of the chart's interval, so every panel counts exactly the same instants: the chart
 * (one bar per bucket), the top types (summed over buckets that tile the same range), the quarantine
 * and the funnel. Buckets start at minute, hour, midnight, Monday or first-of-month edges in the
 * zone shown: UTC, or the viewer's own zone (the API is asked with the same `tz`).
 */
export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';
export const INTERVALS: Interval[] = ['minute', 'hour', 'day', 'week', 'month'];
export type Zone = 'utc' | 'local';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Nominal widths: enough to estimate how many buckets a range holds. */
const WIDTH: Record<Interval, number> = {
  minute: MINUTE,
  hour: HOUR,
  day: DAY,
  week: 7 * DAY,
  month: 30 * DAY,
};

export interface Preset {
  id: string;
  label: string;
  ms: number;
  interval: Interval;
}

export const PRESETS: Preset[] = [
  { id: '1h', label: 'Last hour', ms: HOUR, interval: 'minute' },
  { id: '6h', label: 'Last 6 hours', ms: 6 * HOUR, interval: 'minute' },
  { id: '24h', label: 'Last 24 hours', ms: DAY, interval: 'hour' },
  { id: '7d', label: 'Last 7 days', ms: 7 * DAY, interval: 'hour' },
  { id: '30d', label: 'Last 30 days', ms: 30 * DAY, interval: 'day' },
  { id: '90d', label: 'Last 90 days', ms: 90 * DAY, interval: 'day' },
  { id: '365d', label: 'Last 12 months', ms: 365 * DAY, interval: 'week' },
];

/** More buckets than this make an unreadable chart and a slow answer: a coarser interval is used. */
export const MAX_BUCKETS = 1500;

/** [from, to): `to` itself is not in the range. */
export interface Range {
  from: Date;
  to: Date;
}

export function bucketCount(range: Range, interval: Interval): number {
  return Math.ceil((range.to.getTime() - range.from.getTime()) / WIDTH[interval]);
}

/** The interval asked for, or the finest coarser one that keeps the chart under MAX_BUCKETS. */
export function usableInterval(range: Range, wanted: Interval): Interval {
  for (const interval of INTERVALS.slice(INTERVALS.indexOf(wanted))) {
    if (bucketCount(range, interval) <= MAX_BUCKETS) return interval;
  }
  return 'month';
}

/** Calendar fields of an instant in the zone: [year, month, day, hour, minute, weekday]. */
function fields(ms: number, zone: Zone): number[] {
  const d = new Date(ms);
  return zone === 'utc'
    ? [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCDay()]
    : [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getDay()];
}

/** The instant of a wall-clock time in the zone (fields may overflow: Date normalizes them). */
function instant(zone: Zone, y: number, mo: number, d: number, h = 0, mi = 0): number {
  return zone === 'utc' ? Date.UTC(y, mo, d, h, mi) : new Date(y, mo, d, h, mi).getTime();
}

/** Start of the bucket holding `ms`. Weeks start on Monday, as the API's do. */
export function bucketStart(ms: number, interval: Interval, zone: Zone): number {
  const [y, mo, d, h, mi, dow] = fields(ms, zone);
  switch (interval) {
    case 'minute':
      return instant(zone, y, mo, d, h, mi);
    case 'hour':
      return instant(zone, y, mo, d, h);
    case 'day':
      return instant(zone, y, mo, d);
    case 'week':
      return instant(zone, y, mo, d - ((dow + 6) % 7));
    case 'month':
      return instant(zone, y, mo, 1);
  }
}

/** Start of the bucket after the one starting at `start`. */
export function nextBucket(start: number, interval: Interval, zone: Zone): number {
  const [y, mo, d, h, mi] = fields(start, zone);
  switch (interval) {
    case 'minute':
      return start + MINUTE;
    case 'hour':
      return instant(zone, y, mo, d, h + 1, mi);
    case 'day':
      return instant(zone, y, mo, d + 1);
    case 'week':
      return instant(zone, y, mo, d + 7);
    case 'month':
      return instant(zone, y, mo + 1, 1);
  }
}

/**
 * The pickers' range as whole buckets: from the start of the bucket holding `from` to the end of the
 * bucket holding the range's last instant. "Last 24 hours" per hour is 25 buckets, the newest one
 * still filling; a custom Monday 00:00 → Monday 00:00 per day is exactly 7 days.
 */
export function wholeBuckets(range: Range, interval: Interval, zone: Zone): Range {
  const from = bucketStart(range.from.getTime(), interval, zone);
  const lastInstant = Math.max(range.from.getTime(), range.to.getTime() - 1);
  const to = nextBucket(bucketStart(lastInstant, interval, zone), interval, zone);
  return { from: new Date(from), to: new Date(to) };
}

/** Every bucket start of a whole-bucket range, so a chart shows empty buckets as zero. */
export function bucketStarts(range: Range, interval: Interval, zone: Zone): number[] {
  const starts: number[] = [];
  for (let t = range.from.getTime(); t < range.to.getTime(); t = nextBucket(t, interval, zone))
    starts.push(t);
  return starts;
}

/**
 * The coarsest interval whose buckets tile the range exactly (top types sum it: fewer rows than the
 * chart's interval, the same instants). The chart's own interval always tiles it.
 */
export function summaryInterval(range: Range, chartInterval: Interval, zone: Zone): Interval {
  for (const interval of [...INTERVALS].reverse()) {
    if (INTERVALS.indexOf(interval) <= INTERVALS.indexOf(chartInterval)) return chartInterval;
    const tiles = [range.from, range.to].every(
      (d) => bucketStart(d.getTime(), interval, zone) === d.getTime(),
    );
    if (tiles) return interval;
  }
  return chartInterval;
}

/**
 * API bounds for a range: the API's from and to are both inclusive, to the microsecond, so `to` is
 * the range's last microsecond (the instant before the end).
 */
export function apiBounds(range: Range, zone: Zone): { from: string; to: string; tz: string } {
  return {
    from: range.from.toISOString(),
    to: new Date(range.to.getTime() - 1).toISOString().replace(/Z$/, '999Z'),
    tz: zoneId(zone),
  };
}

/** The IANA name of the zone ('UTC', or the browser's own, e.g. Europe/Paris). */
export function zoneId(zone: Zone): string {
  return zone === 'utc' ? 'UTC' : Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Short name of the zone at that instant: "UTC", "CET", "GMT+5:30"… */
function zoneLabel(ms: number, zone: Zone): string {
  if (zone === 'utc') return 'UTC';
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(new Date(ms))
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? zoneId(zone);
}

/**
 * "2026-12-02 14:05 UTC" in the zone shown; `seconds` adds :SS, `fraction` (e.g. ".123456", kept
 * from the API's text: a Date has milliseconds only) follows the seconds.
 */
export function formatTime(ms: number, zone: Zone, seconds = false, fraction = ''): string {
  const [y, mo, d, h, mi] = fields(ms, zone);
  const sec = zone === 'utc' ? new Date(ms).getUTCSeconds() : new Date(ms).getSeconds();
  const clock = `${pad(h)}:${pad(mi)}${seconds ? `:${pad(sec)}${fraction}` : ''}`;
  return `${y}-${pad(mo + 1)}-${pad(d)} ${clock} ${zoneLabel(ms, zone)}`;
}

/** `<input type="datetime-local">` value (wall clock in the zone) ↔ Date. */
export function toInputValue(d: Date, zone: Zone): string {
  const [y, mo, day, h, mi] = fields(d.getTime(), zone);
  return `${y}-${pad(mo + 1)}-${pad(day)}T${pad(h)}:${pad(mi)}`;
}

export function fromInputValue(v: string, zone: Zone): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(v);
  if (!m) return null;
  const ms = instant(zone, +m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return Number.isNaN(ms) ? null : new Date(ms);
}
