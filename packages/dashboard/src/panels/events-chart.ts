import uPlot from 'uplot';
import { describeError } from '../api';
import { fill, fmt, h, note } from '../dom';
import { type Ctx, PALETTE, type Panel, panelShell, single } from '../panel';
import { type Interval, type Zone, apiBounds, bucketStarts, formatTime } from '../time';
import type { StatsRowDto as StatsRow } from '../wire';

const OTHER = '(other categories)';
const MAX_SERIES = PALETTE.length;

/** Events over time, stacked by category: GET /v1/stats/events?group_by=category (the rollups). */
export function eventsChartPanel(): Panel {
  const { el, body } = panelShell(
    'events-over-time',
    'Events over time',
    'Stored events per bucket (by the time they occurred), stacked by category. Hover the chart for the numbers.',
  );
  const status = h('div', { class: 'status' });
  const chartBox = h('div', { class: 'chart' });
  const readout = h('div', { class: 'readout', 'aria-live': 'polite' });
  const legend = h('ul', { class: 'legend' });
  const total = h('p', { class: 'total', 'data-testid': 'events-total' });
  body.append(status, chartBox, readout, legend, total);

  let plot: uPlot | null = null;
  let seriesKey = '';
  let range: [number, number] = [0, 1];
  const resize = new ResizeObserver(() => plot?.setSize({ width: chartBox.clientWidth, height: 260 }));
  resize.observe(chartBox);

  const refresh = single('events-over-time', async (ctx: Ctx) => {
    const { interval, zone } = ctx;
    let rows: StatsRow[];
    let truncated: boolean;
    try {
      ({ rows, truncated } = await ctx.api.all<StatsRow>('/v1/stats/events', {
        interval,
        group_by: 'category',
        ...apiBounds(ctx.range, zone),
        limit: 1000,
      }));
    } catch (err) {
      fill(status, note(describeError(err, 'Events over time'), 'error'));
      return;
    }

    // Counts by category and bucket; a zero-filled x axis even if the server left gaps.
    const byCategory = new Map<string, Map<number, number>>();
    const xsSet = new Set(bucketStarts(ctx.range, interval, zone));
    for (const row of rows) {
      const t = Date.parse(row.bucket);
      xsSet.add(t);
      if (!row.count) continue;
      const cat = row.category ?? '(all)';
      const counts = byCategory.get(cat) ?? new Map<number, number>();
      counts.set(t, (counts.get(t) ?? 0) + row.count);
      byCategory.set(cat, counts);
    }
    const xs = [...xsSet].sort((a, b) => a - b);
    const totals = [...byCategory].map(([cat, counts]) => ({
      cat,
      counts,
      total: [...counts.values()].reduce((s, n) => s + n, 0),
    }));
    totals.sort((a, b) => b.total - a.total || a.cat.localeCompare(b.cat));
    if (totals.length > MAX_SERIES) {
      const rest = totals.splice(MAX_SERIES - 1);
      const counts = new Map<number, number>();
      for (const r of rest) for (const [t, n] of r.counts) counts.set(t, (counts.get(t) ?? 0) + n);
      totals.push({ cat: OTHER, counts, total: rest.reduce((s, r) => s + r.total, 0) });
    }
    const grand = totals.reduce((s, r) => s + r.total, 0);

    const notes: HTMLElement[] = [];
    if (interval !== ctx.wanted) {
      notes.push(
        note(`Shown per ${interval}: per ${ctx.wanted} would be too many buckets for this range.`, 'info'),
      );
    }
    if (truncated) notes.push(note('Only the first pages of buckets are shown: narrow the range.', 'info'));
    if (grand === 0) {
      notes.push(
        note(
          'No stored events in this range. Widen the range, or send events with POST /v1/events ' +
            '(see the API docs at /docs); they appear here once the worker has stored them.',
        ),
      );
    }
    fill(status, notes);

    // Stacked bars: each series is the running sum up to its category, drawn tallest first so
    // the smaller sums paint over it.
    const perCat = totals.map((r) => xs.map((t) => r.counts.get(t) ?? 0));
    const cumulative: number[][] = [];
    perCat.forEach((vals, i) => cumulative.push(vals.map((v, j) => v + (i ? cumulative[i - 1][j] : 0))));
    const data: uPlot.AlignedData = [xs.map((t) => t / 1000), ...cumulative.slice().reverse()];
    // The x scale spans the whole range: each bar stands on its bucket's start and fills the
    // bucket, so the newest bucket ends at the range's end instead of past the plot's edge.
    range = [ctx.range.from.getTime() / 1000, ctx.range.to.getTime() / 1000];
    const key = [zone, ...totals.map((r) => r.cat)].join('\u0000');
    if (!plot || key !== seriesKey) {
      plot?.destroy();
      seriesKey = key;
      plot = new uPlot(
        chartOptions(
          totals.map((r) => r.cat),
          chartBox.clientWidth,
          zone,
          () => range,
          (idx) => showReadout(idx),
        ),
        data,
        chartBox,
      );
    } else {
      plot.setData(data);
    }

    function showReadout(idx: number | null | undefined): void {
      if (idx === null || idx === undefined || idx >= xs.length) {
        fill(readout);
        return;
      }
      const parts = totals.map((r, i) => `${r.cat} ${fmt.format(perCat[i][idx])}`);
      const sum = perCat.reduce((s, vals) => s + vals[idx], 0);
      fill(
        readout,
        `${label(xs[idx], interval, zone)} — `,
        h('b', { 'data-count': sum }, fmt.format(sum)),
        ` event${sum === 1 ? '' : 's'}`,
        parts.length ? `: ${parts.join(', ')}` : '',
      );
    }

    fill(
      legend,
      totals.map((r, i) =>
        h(
          'li',
          { 'data-category': r.cat },
          h('span', { class: 'swatch', style: `background:${PALETTE[i % PALETTE.length]}` }),
          h('span', { class: 'label' }, r.cat),
          h('b', { class: 'count' }, fmt.format(r.total)),
        ),
      ),
    );
    fill(
      total,
      h('b', { 'data-count': grand }, fmt.format(grand)),
      ` event${grand === 1 ? '' : 's'} in the range, in ${xs.length} buckets of one ${interval}`,
    );
  });

  return {
    el,
    refresh,
    destroy() {
      resize.disconnect();
      plot?.destroy();
    },
  };
}

/** A bucket as the readout names it: "Day starting 2026-10-12 00:00 UTC". */
function label(start: number, interval: Interval, zone: Zone): string {
  const text = formatTime(start, zone);
  return `${interval[0].toUpperCase()}${interval.slice(1)} starting ${text}`;
}

function chartOptions(
  cats: string[],
  width: number,
  zone: Zone,
  xRange: () => [number, number],
  onCursor: (idx: number | null | undefined) => void,
): uPlot.Options {
  const bars = uPlot.paths.bars?.({ size: [0.85, 48], align: 1 });
  const series: uPlot.Series[] = cats.map((cat, i) => ({
    label: cat,
    stroke: PALETTE[i % PALETTE.length],
    fill: PALETTE[i % PALETTE.length],
    width: 0,
    paths: bars,
    points: { show: false },
  }));
  return {
    width: Math.max(width, 200),
    height: 260,
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: () => xRange() },
      y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.05)] },
    },
    // Axis labels in the zone shown (uPlot writes a Date's local fields).
    tzDate: (ts) => (zone === 'utc' ? uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : new Date(ts * 1000)),
    axes: [
      { stroke: '#475569', grid: { stroke: '#e2e8f0' } },
      {
        stroke: '#475569',
        grid: { stroke: '#e2e8f0' },
        // Wide enough for the longest label ("3,300,000" at 10 M events a day), ~7 px a character.
        size: (_u, values) => 22 + 7 * Math.max(3, ...(values ?? []).map((v) => v.length)),
        values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? fmt.format(t) : '')),
      },
    ],
    series: [{}, ...series.reverse()],
    hooks: { setCursor: [(u) => onCursor(u.cursor.idx)] },
  };
}
