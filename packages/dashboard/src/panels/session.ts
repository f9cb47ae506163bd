import { describeError } from '../api';
import { fill, fmt, h, note, stamp } from '../dom';
import { type Ctx, type Panel, painted, panelShell, single } from '../panel';
import { apiBounds } from '../time';
import type { EventViewDto, SessionPageDto } from '../wire';

const MAX_PAGES = 5;

/** Microseconds since the epoch from an RFC 3339 timestamp with up to 6 fractional digits. */
function micros(iso: string): number {
  const frac = /\.(\d+)Z$/.exec(iso)?.[1] ?? '';
  return Math.floor(Date.parse(iso) / 1000) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

function offset(us: number): string {
  if (us < 1000) return `+${us} µs`;
  if (us < 1_000_000) return `+${(us / 1000).toFixed(1)} ms`;
  if (us < 60_000_000) return `+${(us / 1_000_000).toFixed(2)} s`;
  return `+${Math.floor(us / 60_000_000)} min ${Math.round((us % 60_000_000) / 1_000_000)} s`;
}

/** A session's timeline (GET /v1/sessions/{id}/events), events in order with their payloads. */
export function sessionPanel(): Panel & { open(id: string): void } {
  const { el, body } = panelShell(
    'session',
    "A session's timeline",
    'Every event of one session in occurrence order (µs), with its payload.',
  );
  const input = h('input', {
    name: 'session_id',
    type: 'search',
    placeholder: 'session id, e.g. e2085be5-9137-4e4e-80b5-f1ffddc25423',
    maxlength: 128,
    required: true,
    'aria-label': 'Session id',
  });
  const form = h('form', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Show timeline'));
  const recent = h('div', { class: 'recent' });
  const timeline = h('div', { class: 'timeline' });
  body.append(form, recent, timeline);
  let ctx: Ctx | null = null;

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    open(input.value.trim());
  });

  function open(id: string): void {
    if (!id || !ctx) return;
    input.value = id;
    el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    void load(ctx, id);
  }

  async function load(c: Ctx, id: string): Promise<void> {
    await show(c, id);
    painted('session-timeline');
  }

  async function show(c: Ctx, id: string): Promise<void> {
    fill(timeline, note('Loading…', 'info'));
    let rows: EventViewDto[];
    let truncated: boolean;
    try {
      ({ rows, truncated } = await c.api.all<EventViewDto>(
        `/v1/sessions/${encodeURIComponent(id)}/events`,
        { limit: 1000 },
        MAX_PAGES,
      ));
    } catch (err) {
      fill(timeline, note(describeError(err, 'The session timeline'), 'error'));
      return;
    }
    if (!rows.length) {
      fill(
        timeline,
        note(
          `No stored events for session "${id}". Session ids are exact (case-sensitive); events still queued appear once stored.`,
        ),
      );
      return;
    }
    const start = micros(rows[0].timestamp);
    fill(
      timeline,
      h(
        'p',
        { class: 'muted' },
        `${fmt.format(rows.length)}${truncated ? '+' : ''} events, from ${stamp(rows[0].timestamp, c.zone, true)}`,
      ),
      h(
        'ol',
        { class: 'events' },
        rows.map((e) =>
          h(
            'li',
            { 'data-id': e.id },
            h(
              'div',
              { class: 'row' },
              h('time', { datetime: e.timestamp }, stamp(e.timestamp, c.zone, true)),
              h('span', { class: 'muted' }, offset(micros(e.timestamp) - start)),
              h('span', { class: 'cat' }, e.category),
              h('b', { class: 'name' }, e.name),
              h('span', { class: 'muted' }, e.client_id),
            ),
            h('pre', { class: 'payload' }, JSON.stringify(e.data, null, 2)),
          ),
        ),
      ),
      truncated ? note(`Only the first ${fmt.format(rows.length)} events are shown.`, 'info') : null,
    );
  }

  const refresh = single('session', async (c: Ctx) => {
    ctx = c;
    try {
      const page = await c.api.get<SessionPageDto>('/v1/sessions', {
        from: apiBounds(c.range, c.zone).from,
        to: apiBounds(c.range, c.zone).to,
        order: 'desc',
        limit: 6,
      });
      fill(
        recent,
        page.data.length
          ? [
              h('span', { class: 'muted' }, 'Latest sessions: '),
              ...page.data.map((s) =>
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'chip',
                    title: `${s.event_count} events from ${stamp(s.first_event_at, c.zone)}`,
                    onclick: () => open(s.session_id),
                  },
                  s.session_id.length > 24 ? `${s.session_id.slice(0, 22)}…` : s.session_id,
                  h('span', { class: 'muted' }, ` ${fmt.format(s.event_count)}`),
                ),
              ),
            ]
          : note('No session started in this range: type a session id above.'),
      );
    } catch (err) {
      fill(recent, note(describeError(err, 'Latest sessions'), 'error'));
    }
  });

  return { el, refresh, open };
}
