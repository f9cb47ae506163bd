import { ApiError, describeError } from '../api';
import { fill, fmt, h, note } from '../dom';
import { type Ctx, type Panel, painted, panelShell } from '../panel';
import { apiBounds, formatTime } from '../time';
import type { FunnelRequestDto, FunnelResponseDto as FunnelResult, FunnelStepDto as Step } from '../wire';
import type { EventType } from './top-types';

const WITHIN = ['5m', '30m', '1h', '6h', '1d', '7d'];
/**
 * A funnel reads the stored events themselves (no rollup can answer it): its cost grows with the
 * step-1 events in its range, so by default it counts the last day of the pickers' range only.
 */
const SPANS = [
  { id: 'day', label: 'the last 24 hours of the range', ms: 86_400_000 },
  { id: 'range', label: 'the whole range (slow over weeks of busy types)', ms: Infinity },
];
const MIN_STEPS = 2;
const MAX_STEPS = 10;

/** Funnel builder over event types: POST /v1/funnels for the range of the pickers. */
export function funnelPanel(): Panel & { setTypes(types: EventType[]): void } {
  const { el, body } = panelShell(
    'funnel',
    'Funnel',
    'Sessions that did step 1, then each next step after the previous one, within the window of step 1. Runs on demand over the raw events.',
    false,
  );
  const categories = h('datalist', { id: 'funnel-categories' });
  const names = h('datalist', { id: 'funnel-names' });
  const stepsBox = h('ol', { class: 'steps' });
  const within = h(
    'select',
    { name: 'within', 'aria-label': 'Window' },
    WITHIN.map((w) => h('option', { value: w, selected: w === '30m' }, w)),
  );
  const span = h(
    'select',
    { name: 'span', 'aria-label': 'Funnel range' },
    SPANS.map((x) => h('option', { value: x.id }, x.label)),
  );
  const addButton = h('button', { type: 'button', class: 'secondary' }, 'Add step');
  const runButton = h('button', { type: 'submit' }, 'Run funnel');
  const form = h(
    'form',
    null,
    categories,
    names,
    stepsBox,
    h(
      'div',
      { class: 'inline' },
      addButton,
      h('label', null, 'within ', within),
      h('label', null, 'over ', span),
      runButton,
    ),
  );
  const result = h(
    'div',
    { class: 'funnel-result' },
    note(
      'Type two or more event types (category and name) and run: the two most frequent types of the range fill in the first two steps once there are events.',
    ),
  );
  body.append(form, result);
  let ctx: Ctx | null = null;

  function addStep(step: Step = { category: '', name: '' }): void {
    if (stepsBox.children.length >= MAX_STEPS) return;
    const li = h(
      'li',
      null,
      h('input', {
        name: 'category',
        placeholder: 'category',
        list: 'funnel-categories',
        value: step.category,
        required: true,
        maxlength: 100,
        'aria-label': 'Category',
      }),
      h('input', {
        name: 'name',
        placeholder: 'name',
        list: 'funnel-names',
        value: step.name,
        required: true,
        maxlength: 100,
        'aria-label': 'Name',
      }),
      h(
        'button',
        { type: 'button', class: 'link', title: 'Remove this step', onclick: () => removeStep(li) },
        'remove',
      ),
    );
    stepsBox.append(li);
    addButton.disabled = stepsBox.children.length >= MAX_STEPS;
  }

  function removeStep(li: HTMLElement): void {
    if (stepsBox.children.length <= MIN_STEPS) return;
    li.remove();
    addButton.disabled = false;
  }

  addButton.addEventListener('click', () => addStep());
  for (let i = 0; i < MIN_STEPS; i++) addStep();

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (ctx) void run(ctx);
  });

  async function run(c: Ctx): Promise<void> {
    const steps: Step[] = [...stepsBox.children].map((li) => ({
      category: (li.querySelector('input[name=category]') as HTMLInputElement).value.trim(),
      name: (li.querySelector('input[name=name]') as HTMLInputElement).value.trim(),
    }));
    const spanMs = (SPANS.find((x) => x.id === span.value) ?? SPANS[0]).ms;
    const to = c.range.to;
    const from = new Date(Math.max(c.range.from.getTime(), to.getTime() - spanMs));
    // Step 1 in [from, to): the API's bounds are inclusive, so it is asked up to to's previous µs.
    const over = `${formatTime(from.getTime(), c.zone, true)} – ${formatTime(to.getTime(), c.zone, true)}`;
    const bounds = apiBounds({ from, to }, c.zone);
    // Progress while the server counts: the elapsed time, and a way to stop waiting.
    const started = performance.now();
    const seconds = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const abort = new AbortController();
    const progress = h('span', { 'data-testid': 'funnel-progress' }, `Counting sessions over ${over}…`);
    const cancel = h('button', { type: 'button', class: 'link', onclick: () => abort.abort() }, 'cancel');
    fill(result, h('p', { class: 'note note-info', 'aria-live': 'polite' }, progress, ' ', cancel));
    const tick = window.setInterval(
      () => fill(progress, `Counting sessions over ${over}… ${seconds()}`),
      250,
    );
    runButton.disabled = true;
    try {
      const res = await c.api.post<FunnelResult, FunnelRequestDto>(
        '/v1/funnels',
        { steps, within: within.value, from: bounds.from, to: bounds.to },
        abort.signal,
      );
      render(res);
      result.append(h('p', { class: 'muted small' }, `Over ${over}, answered in ${seconds()}.`));
    } catch (err) {
      fill(result, note(failure(err, seconds()), 'error'));
    } finally {
      window.clearInterval(tick);
      runButton.disabled = false;
    }
    painted('funnel');
  }

  function failure(err: unknown, after: string): string {
    if (err instanceof DOMException && err.name === 'AbortError')
      return `Cancelled after ${after}: the server stops the query at its time limit.`;
    if (err instanceof ApiError && err.code === 'query_timeout')
      return `The funnel over ${span.value === 'range' ? 'the whole range' : 'this day'} took longer than the server's time limit (${after}): choose a shorter span, or a rarer type for step 1.`;
    return describeError(err, 'The funnel');
  }

  function render(res: FunnelResult): void {
    const first = res.steps[0]?.sessions ?? 0;
    if (!first) {
      fill(result, note('No session did step 1 in this range: check the type, or widen the range.'));
      return;
    }
    fill(
      result,
      h(
        'ol',
        { class: 'bars funnel' },
        res.steps.map((s, i) => {
          const prev = i ? res.steps[i - 1].sessions : s.sessions;
          return h(
            'li',
            {
              'data-step': i + 1,
              title: i
                ? `${pct(s.sessions, first)} of step 1, ${pct(s.sessions, prev)} of the previous step`
                : undefined,
            },
            h('span', { class: 'label' }, `${i + 1}. ${s.category} / `, h('b', null, s.name)),
            h('span', { class: 'bar', style: `width:${Math.max(1, (100 * s.sessions) / first)}%` }),
            h(
              'span',
              { class: 'count' },
              fmt.format(s.sessions),
              h('span', { class: 'muted' }, i ? ` (${pct(s.sessions, first)})` : ' sessions'),
            ),
          );
        }),
      ),
    );
  }

  return {
    el,
    // The funnel runs when asked, not on every auto-refresh: keep the range for that moment.
    refresh(c: Ctx) {
      ctx = c;
      return Promise.resolve();
    },
    setTypes(types: EventType[]) {
      fill(
        categories,
        [...new Set(types.map((t) => t.category))].map((c) => h('option', { value: c })),
      );
      fill(
        names,
        [...new Set(types.map((t) => t.name))].map((n) => h('option', { value: n })),
      );
      // Pre-fill an untouched builder with the two most frequent types: a first click shows something.
      const inputs = [...stepsBox.querySelectorAll('input')];
      if (types.length >= 2 && inputs.every((i) => !i.value)) {
        stepsBox.replaceChildren();
        addStep(types[0]);
        addStep(types[1]);
      }
    },
  };
}

function pct(n: number, of: number): string {
  return of ? `${((100 * n) / of).toFixed(1)}%` : '—';
}
