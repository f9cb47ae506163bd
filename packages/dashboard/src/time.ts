/** Time ranges and bucket widths of the pickers; every time is UTC, as the API's buckets are. */
export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';
export const INTERVALS: Interval[] = ['minute', 'hour', 'day', 'week', 'month'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
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

/** Coarsest interval that still counts a range without much spill over its edges (top types). */
export function summaryInterval(range: Range): Interval {
  const span = range.to.getTime() - range.from.getTime();
  if (span <= 6 * HOUR) return 'minute';
  if (span <= 7 * DAY) return 'hour';
  return 'day';
}

function floorUtc(ms: number, interval: 'minute' | 'hour' | 'day'): number {
  return ms - (ms % WIDTH[interval]);
}

/**
 * Every bucket start (ms) between from and to for the fixed-width intervals, so a chart shows
 * zero buckets even from a server that omits them; week and month come from the server alone.
 */
export function bucketStarts(range: Range, interval: Interval): number[] {
  if (interval === 'week' || interval === 'month') return [];
  const starts: number[] = [];
  const end = range.to.getTime();
  for (let t = floorUtc(range.from.getTime(), interval); t <= end; t += WIDTH[interval]) starts.push(t);
  return starts;
}

/** `<input type="datetime-local">` value (UTC) ↔ Date. */
export function toInputValue(d: Date): string {
  return d.toISOString().slice(0, 16);
}

export function fromInputValue(v: string): Date | null {
  if (!v) return null;
  const d = new Date(`${v}:00Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}
