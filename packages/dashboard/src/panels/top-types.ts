import { describeError } from '../api';
import { fill, fmt, h, note } from '../dom';
import { type Ctx, type Panel, panelShell, single } from '../panel';
import { apiBounds, summaryInterval } from '../time';
import type { StatsRowDto as StatsRow } from '../wire';

/** An event type and its count over the range (the sum of its stats rows). */
export interface EventType {
  category: string;
  name: string;
  count: number;
}

const SHOWN = 12;

/** Pages of 1,000 (bucket, type) rows read at most before the panel says its sums are partial. */
const TYPE_PAGES = 200;

/** Top event types in the range: GET /v1/stats/events?group_by=name, summed over the buckets. */
export function topTypesPanel(onTypes: (types: EventType[]) => void): Panel {
  const { el, body } = panelShell(
    'top-types',
    'Top event types',
    'Stored events by type (category / name) in the range, by the time they occurred.',
  );
  const refresh = single('top-types', async (ctx: Ctx) => {
    let rows: StatsRow[];
    let truncated: boolean;
    try {
      // The API answers every bucket of every type (zeros included): a range of whole minutes over
      // hours, with hundreds of types, is tens of pages, all needed for exact sums.
      ({ rows, truncated } = await ctx.api.all<StatsRow>(
        '/v1/stats/events',
        {
          interval: summaryInterval(ctx.range, ctx.interval, ctx.zone),
          group_by: 'name',
          ...apiBounds(ctx.range, ctx.zone),
          limit: 1000,
        },
        TYPE_PAGES,
      ));
    } catch (err) {
      fill(body, note(describeError(err, 'Top event types'), 'error'));
      return;
    }
    const byType = new Map<string, EventType>();
    for (const row of rows) {
      if (!row.count || row.name === undefined) continue;
      const category = row.category ?? '';
      const key = `${category}\u0000${row.name}`;
      const t = byType.get(key) ?? { category, name: row.name, count: 0 };
      t.count += row.count;
      byType.set(key, t);
    }
    const types = [...byType.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    onTypes(types);
    if (!types.length) {
      fill(
        body,
        note('No event types in this range yet: they are listed here as soon as events are stored.'),
      );
      return;
    }
    const max = types[0].count;
    fill(
      body,
      h(
        'ol',
        { class: 'bars' },
        types
          .slice(0, SHOWN)
          .map((t) =>
            h(
              'li',
              { 'data-type': `${t.category}/${t.name}` },
              h(
                'span',
                { class: 'label' },
                h('span', { class: 'cat' }, t.category),
                ' / ',
                h('b', null, t.name),
              ),
              h('span', { class: 'bar', style: `width:${Math.max(1, (100 * t.count) / max)}%` }),
              h('span', { class: 'count' }, fmt.format(t.count)),
            ),
          ),
      ),
      types.length > SHOWN ? note(`and ${types.length - SHOWN} more types`, 'info') : null,
      truncated ? note('Counted over the first pages of buckets only: narrow the range.', 'info') : null,
    );
  });
  return { el, refresh };
}
