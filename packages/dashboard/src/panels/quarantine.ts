import { ApiError, describeError } from '../api';
import { fill, fmt, h, note, stamp } from '../dom';
import { type Ctx, type Panel, panelShell, single } from '../panel';
import { type Zone, apiBounds } from '../time';
import type {
  RejectedEventDto as Rejected,
  RejectedEventPageDto,
  RejectedSummaryRowDto,
  paths,
} from '../wire';

type RejectedQuery = NonNullable<paths['/v1/rejected-events']['get']['parameters']['query']>;
/** The summary is asked with its default grouping (reason,type), whose rows all name their reason. */
type SummaryRow = RejectedSummaryRowDto & { reason: string };

/** The samples' query: one reason, and the type when the summary row has one. */
type Filter = Required<Pick<RejectedQuery, 'reason'>> & Pick<RejectedQuery, 'category' | 'name'>;

const SAMPLES = 5;
/** Summary rows shown before "show all": the most frequent first. */
const SUMMARY_ROWS = 8;

/**
 * The quarantine: counts by reason and type (GET /v1/rejected-events/summary) and the latest
 * rejected events with their errors (GET /v1/rejected-events); a summary row filters the samples.
 */
export function quarantinePanel(openSession: (id: string) => void): Panel {
  const { el, body } = panelShell(
    'quarantine',
    'Quarantine',
    'Events the worker refused in the range, by the time it refused them (the other panels go by the ' +
      "events' own time: an event sent late for an earlier day is counted on the day it was refused). " +
      'Pick a row for samples with their errors.',
  );
  const summaryBox = h('div', { class: 'summary' });
  const samplesTitle = h('h3', null, 'Latest rejected events');
  const samplesBox = h('div', { class: 'samples' });
  body.append(summaryBox, samplesTitle, samplesBox);
  let filter: Filter | null = null;
  let expanded = false;
  let lastCtx: Ctx | null = null;
  let zone: Zone = 'utc';

  const refresh = single('quarantine', async (ctx: Ctx) => {
    lastCtx = ctx;
    zone = ctx.zone;
    const { from, to } = apiBounds(ctx.range, ctx.zone);
    const range = { from, to };
    const [summary, samples] = await Promise.allSettled([
      ctx.api.all<SummaryRow>('/v1/rejected-events/summary', { ...range, limit: 100 }, 1),
      ctx.api.get<RejectedEventPageDto>('/v1/rejected-events', { ...range, ...filter, limit: SAMPLES }),
    ]);
    if (summary.status === 'fulfilled') renderSummary(summary.value.rows);
    else {
      const err: unknown = summary.reason;
      fill(
        summaryBox,
        note(
          err instanceof ApiError && err.status === 404
            ? 'Counts by reason need GET /v1/rejected-events/summary, which this server does not have yet: the latest rejected events are below.'
            : describeError(err, 'Quarantine summary'),
          'error',
        ),
      );
    }
    if (samples.status === 'fulfilled') renderSamples(samples.value.data);
    else fill(samplesBox, note(describeError(samples.reason, 'Rejected events'), 'error'));
  });

  function select(next: Filter | null): void {
    filter = next;
    if (lastCtx) void refresh(lastCtx);
  }

  function renderSummary(rows: SummaryRow[]): void {
    if (!rows.length) {
      fill(
        summaryBox,
        note(
          'Nothing refused in this range (by the time of refusal): every event the worker checked in it passed.',
        ),
      );
      return;
    }
    const total = rows.reduce((s, r) => s + r.count, 0);
    const shown = expanded ? rows : rows.slice(0, SUMMARY_ROWS);
    const toggle =
      rows.length > SUMMARY_ROWS
        ? h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                expanded = !expanded;
                renderSummary(rows);
              },
            },
            expanded ? 'show fewer' : `show all ${rows.length} rows`,
          )
        : null;
    fill(
      summaryBox,
      h(
        'table',
        { class: 'table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'Reason'),
            h('th', null, 'Type'),
            h('th', { class: 'num' }, 'Refused'),
            h('th', null, 'Last refused'),
          ),
        ),
        h(
          'tbody',
          null,
          shown.map((r) => {
            const selected =
              filter?.reason === r.reason && filter.category === r.category && filter.name === r.name;
            return h(
              'tr',
              {
                class: selected ? 'selected clickable' : 'clickable',
                tabindex: 0,
                title: 'Show samples of this reason and type',
                onclick: () =>
                  select(selected ? null : { reason: r.reason, category: r.category, name: r.name }),
              },
              h('td', null, h('span', { class: 'badge reason' }, r.reason)),
              h(
                'td',
                null,
                r.category === undefined && r.name === undefined
                  ? '—'
                  : `${r.category ?? '?'} / ${r.name ?? '?'}`,
              ),
              h('td', { class: 'num' }, fmt.format(r.count)),
              h('td', null, stamp(r.last_rejected_at, zone)),
            );
          }),
        ),
        h(
          'tfoot',
          null,
          h(
            'tr',
            null,
            h('td', { colspan: 2 }, 'Refused in the range ', toggle),
            h('td', { class: 'num' }, fmt.format(total)),
            h('td'),
          ),
        ),
      ),
    );
  }

  function renderSamples(rows: Rejected[]): void {
    fill(
      samplesTitle,
      filter
        ? `Latest rejected: ${filter.reason}${filter.name ? ` — ${filter.category ?? '?'} / ${filter.name}` : ''} `
        : 'Latest rejected events ',
      filter
        ? h('button', { class: 'link', type: 'button', onclick: () => select(null) }, '(show all)')
        : null,
    );
    if (!rows.length) {
      fill(samplesBox, note('No event refused in this range.'));
      return;
    }
    fill(
      samplesBox,
      h(
        'ul',
        { class: 'rejected' },
        rows.map((r) => {
          const sessionId = typeof r.event.session_id === 'string' ? r.event.session_id : null;
          const type = `${str(r.event.category)} / ${str(r.event.name)}`;
          return h(
            'li',
            { 'data-id': r.id },
            h(
              'div',
              { class: 'row' },
              r.reasons.map((reason) => h('span', { class: 'badge reason' }, reason)),
              h('b', null, type),
              h('span', { class: 'muted' }, `refused ${stamp(r.rejected_at, zone)}`),
              sessionId
                ? h(
                    'button',
                    { class: 'link', type: 'button', onclick: () => openSession(sessionId) },
                    'session timeline',
                  )
                : null,
            ),
            h(
              'ul',
              { class: 'errors' },
              r.errors.map((e) => h('li', null, h('code', null, e.path || '/'), ' ', e.message)),
            ),
            h(
              'details',
              null,
              h('summary', null, 'event as received'),
              h('pre', null, JSON.stringify(r.event, null, 2)),
            ),
          );
        }),
      ),
    );
  }

  return { el, refresh };
}

/** A field of the event as received: it may be missing or of the wrong type (that can be why it was refused). */
function str(v: unknown): string {
  if (typeof v === 'string') return v;
  return v === undefined ? '?' : JSON.stringify(v);
}
