import 'uplot/dist/uPlot.min.css';
import './style.css';
import { Api, ApiError, type Session } from './api';
import { fill, h } from './dom';
import type { Ctx, Panel } from './panel';
import { eventsChartPanel } from './panels/events-chart';
import { funnelPanel } from './panels/funnel';
import { opsPanel } from './panels/ops';
import { quarantinePanel } from './panels/quarantine';
import { sessionPanel } from './panels/session';
import { topTypesPanel } from './panels/top-types';
import {
  INTERVALS,
  type Interval,
  PRESETS,
  type Range,
  type Zone,
  formatTime,
  fromInputValue,
  toInputValue,
  usableInterval,
  wholeBuckets,
  zoneId,
} from './time';

const REFRESH_MS = 5_000;
const root = document.getElementById('root') as HTMLElement;
const api = new Api((reason) => showSignIn(reason));

let stopDashboard: (() => void) | null = null;

function showSignIn(message = ''): void {
  stopDashboard?.();
  stopDashboard = null;
  const error = h('p', { class: 'form-error', role: 'alert' }, message);
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin', id: 'signin', autocomplete: 'off' },
    h('h1', null, 'The Eye'),
    h(
      'p',
      { class: 'muted' },
      'Sign in with the client credentials of an analyst (events:read) or an admin.',
    ),
    h(
      'label',
      null,
      'Client id',
      h('input', { name: 'client_id', required: true, autocomplete: 'username', spellcheck: 'false' }),
    ),
    h(
      'label',
      null,
      'Client secret',
      h('input', {
        name: 'client_secret',
        type: 'password',
        required: true,
        autocomplete: 'current-password',
      }),
    ),
    button,
    error,
    h(
      'p',
      { class: 'muted small' },
      'The token stays in this tab’s memory only: reloading or closing the tab signs out.',
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    performance.mark('the-eye:sign-in');
    button.disabled = true;
    fill(error);
    api
      .signIn(text(data.get('client_id')).trim(), text(data.get('client_secret')))
      .then((session) => {
        if (!session.admin && !session.scopes.includes('events:read')) {
          api.signOut();
          throw new ApiError(
            403,
            'forbidden',
            `This client has ${session.scopes.join(', ') || 'no scope'}; the dashboard needs events:read or admin.`,
          );
        }
        showDashboard(session);
      })
      .catch((err: unknown) => {
        button.disabled = false;
        fill(
          error,
          err instanceof ApiError && err.status === 401
            ? 'Unknown client id or wrong secret.'
            : err instanceof Error
              ? err.message
              : String(err),
        );
      });
  });
  fill(root, h('main', { class: 'signin-page' }, form));
  (form.querySelector('input[name=client_id]') as HTMLInputElement).focus();
}

function showDashboard(session: Session): void {
  performance.mark('the-eye:signed-in');
  // The pickers live in the URL fragment (#range=7d&interval=hour&zone=local, or custom from/to): a
  // view can be bookmarked or shared, and it survives the reload that signs out.
  const saved = new URLSearchParams(location.hash.slice(1));
  const savedRange = saved.get('range') ?? '24h';
  const savedInterval = saved.get('interval') ?? 'hour';
  let zone: Zone = saved.get('zone') === 'local' ? 'local' : 'utc';
  const zoneSelect = h(
    'select',
    { name: 'zone', 'aria-label': 'Time zone' },
    h('option', { value: 'utc', selected: zone === 'utc' }, 'UTC'),
    h('option', { value: 'local', selected: zone === 'local' }, `Local time (${zoneId('local')})`),
  );
  const preset = h(
    'select',
    { name: 'range', 'aria-label': 'Time range' },
    PRESETS.map((p) => h('option', { value: p.id, selected: p.id === savedRange }, p.label)),
    h('option', { value: 'custom', selected: savedRange === 'custom' }, 'Custom…'),
  );
  const interval = h(
    'select',
    { name: 'interval', 'aria-label': 'Interval' },
    INTERVALS.map((i) => h('option', { value: i, selected: i === savedInterval }, `per ${i}`)),
  );
  const now = new Date();
  // Custom bounds are wall-clock times in the zone shown; `to` is where the range ends (excluded).
  const fromInput = h('input', {
    type: 'datetime-local',
    name: 'from',
    'aria-label': 'From',
    value: saved.get('from') ?? toInputValue(new Date(now.getTime() - 86_400_000), zone),
  });
  const toInput = h('input', {
    type: 'datetime-local',
    name: 'to',
    'aria-label': 'To (excluded)',
    value: saved.get('to') ?? toInputValue(now, zone),
  });
  const rangeLine = h('span', { class: 'range', 'data-testid': 'range' });
  const custom = h('span', { class: 'custom', hidden: savedRange !== 'custom' }, fromInput, ' – ', toInput);
  const status = h('span', { class: 'muted refresh-status', 'aria-live': 'polite' });
  const refreshButton = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out');

  const session_ = sessionPanel();
  const funnel = funnelPanel();
  const panels: Panel[] = [
    eventsChartPanel(),
    topTypesPanel((types) => funnel.setTypes(types)),
    quarantinePanel((id) => session_.open(id)),
    session_,
    funnel,
  ];
  if (session.admin) panels.push(opsPanel());

  const rangeNow = (): Range => {
    if (preset.value === 'custom') {
      const from = fromInputValue(fromInput.value, zone);
      const to = fromInputValue(toInput.value, zone);
      if (from && to && from < to) return { from, to };
    }
    const p = PRESETS.find((x) => x.id === preset.value) ?? PRESETS[2];
    const to = new Date();
    return { from: new Date(to.getTime() - p.ms), to };
  };
  // Every panel reads the same whole buckets of the chart's interval, so their numbers add up.
  const ctx = (): Ctx => {
    const raw = rangeNow();
    const wanted = interval.value as Interval;
    const usable = usableInterval(raw, wanted);
    return { api, session, range: wholeBuckets(raw, usable, zone), interval: usable, wanted, zone };
  };
  const showRange = (c: Ctx): void => {
    rangeLine.dataset.from = c.range.from.toISOString();
    rangeLine.dataset.to = c.range.to.toISOString();
    rangeLine.dataset.interval = c.interval;
    rangeLine.dataset.tz = zoneId(c.zone);
    fill(
      rangeLine,
      'Range ',
      h('b', null, formatTime(c.range.from.getTime(), c.zone)),
      ' to ',
      h('b', null, formatTime(c.range.to.getTime(), c.zone)),
      ` (end excluded), whole ${c.interval}s: every panel counts these instants`,
    );
  };
  let timer: number | undefined;
  let stopped = false;
  const saveView = (): void => {
    const view = new URLSearchParams({ range: preset.value, interval: interval.value });
    if (zone === 'local') view.set('zone', 'local');
    if (preset.value === 'custom') {
      view.set('from', fromInput.value);
      view.set('to', toInput.value);
    }
    history.replaceState(null, '', `#${view.toString()}`);
  };

  const refreshAll = async (): Promise<void> => {
    window.clearTimeout(timer);
    const c = ctx();
    saveView();
    showRange(c);
    fill(status, 'Updating…');
    await Promise.allSettled(panels.map((p) => p.refresh(c)));
    if (stopped) return;
    fill(
      status,
      `Updated ${formatTime(Date.now(), c.zone, true).slice(11)} · every ${REFRESH_MS / 1000} s while this tab is visible`,
    );
    schedule();
  };
  const schedule = (): void => {
    window.clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible')
      timer = window.setTimeout(() => void refreshAll(), REFRESH_MS);
  };
  const onVisibility = (): void => {
    if (document.visibilityState === 'visible') void refreshAll();
    else {
      window.clearTimeout(timer);
      fill(status, 'Paused while the tab is hidden');
    }
  };
  document.addEventListener('visibilitychange', onVisibility);

  preset.addEventListener('change', () => {
    custom.hidden = preset.value !== 'custom';
    const p = PRESETS.find((x) => x.id === preset.value);
    if (p) interval.value = p.interval;
    void refreshAll();
  });
  for (const el of [interval, fromInput, toInput]) el.addEventListener('change', () => void refreshAll());
  // The custom bounds keep their instants: their wall-clock text is rewritten in the new zone.
  zoneSelect.addEventListener('change', () => {
    const next: Zone = zoneSelect.value === 'local' ? 'local' : 'utc';
    for (const input of [fromInput, toInput]) {
      const d = fromInputValue(input.value, zone);
      if (d) input.value = toInputValue(d, next);
    }
    zone = next;
    void refreshAll();
  });
  refreshButton.addEventListener('click', () => void refreshAll());
  signOut.addEventListener('click', () => api.signOut());

  stopDashboard = () => {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
    for (const p of panels) p.destroy?.();
  };

  fill(
    root,
    h(
      'header',
      { class: 'top' },
      h('h1', null, 'The Eye'),
      h('div', { class: 'pickers' }, preset, custom, interval, zoneSelect, refreshButton),
      h(
        'div',
        { class: 'who' },
        h('span', { class: 'muted' }, 'Signed in as '),
        h('b', { 'data-testid': 'client-id' }, session.clientId),
        ' ',
        session.scopes.map((s) => h('span', { class: 'badge' }, s)),
        ' ',
        signOut,
      ),
    ),
    h(
      'div',
      { class: 'status-line' },
      rangeLine,
      ' · ',
      status,
      session.admin ? null : ' · queue depth, processing lag and ingestion rate are shown to admins',
    ),
    h(
      'main',
      { class: 'grid' },
      panels.map((p) => p.el),
    ),
  );
  void refreshAll();
}

/** A text field of a form (never a file here). */
function text(v: FormDataEntryValue | null): string {
  return typeof v === 'string' ? v : '';
}

showSignIn();
