import { describeError } from '../api';
import { fill, fmt, h, note } from '../dom';
import { type Ctx, type Panel, painted, panelShell } from '../panel';
import type { EventType } from './top-types';

interface Step {
  category: string;
  name: string;
}

interface FunnelResult {
  steps: (Step & { sessions: number })[];
}

const WITHIN = ['5m', '30m', '1h', '6h', '1d', '7d'];
const MIN_STEPS = 2;
const MAX_STEPS = 10;

/** Funnel builder over event types: POST /v1/funnels for the range of the pickers. */
export function funnelPanel(): Panel & { setTypes(types: EventType[]): void } {
  const { el, body } = panelShell(
    'funnel',
    'Funnel',
    'Sessions that did step 1 in the range, then each next step after the previous one, within the window of step 1.',
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
  const addButton = h('button', { type: 'button', class: 'secondary' }, 'Add step');
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
      h('button', { type: 'submit' }, 'Run funnel'),
    ),
  );
  const result = h('div', { class: 'funnel-result' });
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
    fill(result, note('Counting…', 'info'));
    try {
      const res = await c.api.post<FunnelResult>('/v1/funnels', {
        steps,
        within: within.value,
        from: c.range.from.toISOString(),
        to: c.range.to.toISOString(),
      });
      render(res);
    } catch (err) {
      fill(result, note(describeError(err, 'The funnel'), 'error'));
    }
    painted('funnel');
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
