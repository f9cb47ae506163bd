import { describeError } from '../api';
import { fill, fmt, h, note, stamp } from '../dom';
import { type Ctx, type Panel, panelShell, single } from '../panel';
import type { OpsOverviewDto as OpsOverview } from '../wire';

const num = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined ? '—' : digits ? v.toFixed(digits) : fmt.format(Math.round(v));

/** Admins only: queue depth, processing lag and ingestion rate from GET /v1/ops/overview. */
export function opsPanel(): Panel {
  const { el, body } = panelShell(
    'ops',
    'Pipeline',
    'Queue depth, processing lag and ingestion rate (admin).',
  );
  const refresh = single('ops', async (ctx: Ctx) => {
    let o: OpsOverview;
    try {
      o = await ctx.api.get<OpsOverview>('/v1/ops/overview');
    } catch (err) {
      fill(body, note(describeError(err, 'The pipeline overview'), 'error'));
      return;
    }
    const card = (key: string, label: string, value: string, unit: string, warn = false): HTMLElement =>
      h(
        'div',
        { class: warn ? 'card warn' : 'card', 'data-metric': key },
        h('span', { class: 'value' }, value),
        h('span', { class: 'unit' }, unit),
        h('span', { class: 'label' }, label),
      );
    const rate = o.ingestion;
    fill(
      body,
      o.redis === 'down'
        ? note('Redis does not answer: queue figures are unknown and ingestion answers 503.', 'error')
        : null,
      h(
        'div',
        { class: 'cards' },
        card('backlog', 'Backlog', num(o.backlog_events), 'events queued', (o.backlog_events ?? 0) > 10_000),
        card(
          'waiting',
          'Jobs waiting',
          num(o.queue.waiting),
          `${num(o.queue.active)} active, ${num(o.queue.delayed)} delayed`,
        ),
        card('failed', 'Jobs failed', num(o.queue.failed), 'kept for retry', (o.queue.failed ?? 0) > 0),
        card(
          'lag',
          'Processing lag',
          num(o.processing_lag_seconds, 3),
          's, received → stored',
          o.processing_lag_seconds > 5,
        ),
        card(
          'oldest',
          'Oldest waiting job',
          num(o.oldest_waiting_job_age_seconds, 1),
          's',
          (o.oldest_waiting_job_age_seconds ?? 0) > 30,
        ),
        card(
          'rate',
          'Ingestion rate',
          num(rate.accepted_per_second, 1),
          `events/s accepted, ${num(rate.stored_per_second, 1)}/s stored`,
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        rate.window_seconds === null
          ? 'Rates appear from the second refresh on (measured between two reads).'
          : `Rates over the last ${Math.round(rate.window_seconds)} s, as counted by the process that answered. As of ${stamp(o.generated_at, ctx.zone)}.`,
      ),
    );
  });
  return { el, refresh };
}
