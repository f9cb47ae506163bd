// The query paths scripts/latency.ts times over HTTP, each varying its parameters between requests
// (sessions, days, cursors read from the seeded database) so no single cached page is measured.
import { Client } from 'pg';
import { encodeCursor } from '../src/common/cursor';

export interface LatencySamples {
  sessions: string[];
  /** Cursors deep into the events list (past the 500,000th event). */
  deep: string[];
  days: string[];
}
interface Step {
  category: string;
  name: string;
}
/** A GET path, or a POST with its body. */
export type LatencyRequest = { path: string; body?: Record<string, unknown> };
/** [label, request of the i-th call, options]: `overTargetOk` marks a path documented as over target. */
export type Variant = [
  string,
  (i: number) => string | LatencyRequest,
  { requests?: number; warmup?: number; overTargetOk?: boolean }?,
];

const TS = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export async function samples(databaseUrl: string): Promise<LatencySamples> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const sessions = (
      await db.query<{ session_id: string }>(
        `SELECT session_id FROM sessions TABLESAMPLE SYSTEM (5) LIMIT 200`,
      )
    ).rows.map((r) => r.session_id);
    const deep = (
      await db.query<{
        ts: string;
        seq: string;
      }>(`SELECT ${TS('timestamp')} AS ts, seq::text AS seq FROM events
        WHERE seq IN (SELECT (random() * 1000000)::bigint FROM generate_series(1, 50)) AND seq > 500000`)
    ).rows.map((r) => encodeCursor('events', 'asc', [r.ts, r.seq]));
    const days = Array.from({ length: 28 }, (_, i) => `2026-10-${String(i + 2).padStart(2, '0')}`);
    return { sessions, deep, days };
  } finally {
    await db.end();
  }
}

const pickFrom = <T>(items: T[], i: number): T => items[i % items.length];
const enc = encodeURIComponent;
/** Types seeded with schema versions by scripts/seed.ts. */
const SCHEMA_TYPES: [string, string][] = [
  ['page interaction', 'pageview'],
  ['form interaction', 'submit'],
  ['experiment', 'exposure'],
];
const THREE_STEPS: Step[] = [
  { category: 'page interaction', name: 'pageview' },
  { category: 'page interaction', name: 'cta click' },
  { category: 'form interaction', name: 'submit' },
];
const RARE_FIRST: Step[] = [
  { category: 'experiment', name: 'exposure' },
  { category: 'form interaction', name: 'submit' },
];
const funnel = (steps: Step[], within: string, from: string, to: string): LatencyRequest => ({
  path: '/v1/funnels',
  body: { steps, within, from, to },
});

export function variants(s: LatencySamples): Variant[] {
  return [
    ['baseline: GET /health (no query)', () => `/health`],
    ['session timeline', (i) => `/v1/sessions/${enc(pickFrom(s.sessions, i))}/events`],
    ['session timeline, desc', (i) => `/v1/sessions/${enc(pickFrom(s.sessions, i))}/events?order=desc`],
    ['events: no filter', () => `/v1/events`],
    [
      'events: time range (1 day)',
      (i) => `/v1/events?from=${pickFrom(s.days, i)}&to=${pickFrom(s.days, i)}T23:59:59.999999Z`,
    ],
    [
      'events: by category',
      (i) =>
        `/v1/events?category=${enc(pickFrom(['page interaction', 'form interaction', 'media', 'experiment'], i))}`,
    ],
    [
      'events: by category+name',
      (i) =>
        `/v1/events?category=${enc(pickFrom(['page interaction', 'form interaction', 'search'], i))}&name=${enc(pickFrom(['cta click', 'submit', 'query'], i))}`,
    ],
    [
      'events: category+name+range, desc',
      (i) =>
        `/v1/events?category=form%20interaction&name=submit&from=${pickFrom(s.days, i)}&to=2026-10-31&order=desc`,
    ],
    ['events: by name only', (i) => `/v1/events?name=${enc(pickFrom(['pageview', 'exposure', 'query'], i))}`],
    [
      'events: by client_id',
      (i) => `/v1/events?client_id=${pickFrom(['partner-widget', 'mobile-ios', 'legacy-importer'], i)}`,
    ],
    ['events: client_id + range', (i) => `/v1/events?client_id=legacy-importer&from=${pickFrom(s.days, i)}`],
    ['events: deep cursor page', (i) => `/v1/events?cursor=${pickFrom(s.deep, i)}`],
    ['events: limit=1000', (i) => `/v1/events?from=${pickFrom(s.days, i)}&limit=1000`],
    ['sessions list', (i) => `/v1/sessions?from=${pickFrom(s.days, i)}`],
    [
      'stats: minute (1 day)',
      (i) => `/v1/stats/events?interval=minute&from=${pickFrom(s.days, i)}&to=${pickFrom(s.days, i)}`,
    ],
    [
      'stats: hour',
      (i) =>
        `/v1/stats/events?interval=hour&group_by=${pickFrom(['name', 'category'], i)}&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: day (30 days)',
      (i) =>
        `/v1/stats/events?interval=day&group_by=${pickFrom(['name', 'category'], i)}&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: day by client, 30 days',
      () => `/v1/stats/events?interval=day&group_by=client_id&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: day by type, Europe/Paris, 30 days',
      () => `/v1/stats/events?interval=day&group_by=name&tz=Europe/Paris&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: week/month, filtered',
      (i) =>
        i % 2
          ? `/v1/stats/events?interval=week&category=form%20interaction&from=2026-10-01&to=2026-10-31`
          : `/v1/stats/events?interval=month&client_id=legacy-importer&from=2026-01-01&to=2026-12-31`,
    ],
    [
      'stats: hour, session filter',
      (i) => `/v1/stats/events?session_id=${enc(pickFrom(s.sessions, i))}&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: day, name filter, 30 days',
      (i) =>
        `/v1/stats/events?interval=day&name=${enc(pickFrom(['submit', 'pageview', 'exposure'], i))}&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: hour by client, category+name filter, 1 day',
      (i) =>
        `/v1/stats/events?interval=hour&group_by=client_id&category=form%20interaction&name=submit&from=${pickFrom(s.days, i)}&to=${pickFrom(s.days, i)}`,
    ],
    [
      'stats: week, Europe/Paris, client filter',
      () =>
        `/v1/stats/events?interval=week&tz=Europe/Paris&client_id=mobile-ios&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: month by type, America/New_York',
      () => `/v1/stats/events?interval=month&group_by=name&tz=America/New_York&from=2026-01-01&to=2026-12-31`,
    ],
    ['rejected list', () => `/v1/rejected-events`],
    ['rejected summary: 30 days', () => `/v1/rejected-events/summary?from=2026-10-01&to=2026-10-31`],
    [
      'rejected summary: client, 1 day',
      (i) =>
        `/v1/rejected-events/summary?client_id=partner-widget&from=${pickFrom(s.days, i)}&to=${pickFrom(s.days, i)}`,
    ],
    [
      'schema of one type',
      (i) => {
        const [category, name] = pickFrom(SCHEMA_TYPES, i);
        return `/v1/schemas/${enc(category)}/${enc(name)}`;
      },
    ],
    [
      'funnel: 3 steps, 30m, 1 day',
      (i) => funnel(THREE_STEPS, '30m', pickFrom(s.days, i), pickFrom(s.days, i)),
    ],
    [
      'funnel: 3 steps, 30m, 1 day, client_id',
      (i) => {
        const req = funnel(THREE_STEPS, '30m', pickFrom(s.days, i), pickFrom(s.days, i));
        return { ...req, body: { ...req.body, client_id: pickFrom(['partner-widget', 'mobile-ios'], i) } };
      },
    ],
    [
      'funnel: rare step 1 (exposure → submit), 1h, 30 days',
      () => funnel(RARE_FIRST, '1h', '2026-10-01', '2026-10-31'),
    ],
    ['funnel: 3 steps, 30m, 7 days', (i) => funnel(THREE_STEPS, '30m', s.days[i % 22], s.days[(i % 22) + 6])],
    [
      'funnel: 3 steps, 30m, 30 days (step 1 = 55 % of events)',
      () => funnel(THREE_STEPS, '30m', '2026-10-01', '2026-10-31'),
      // Reads most of the table by design; over target, documented in docs/analytics-performance.md.
      { requests: 10, warmup: 2, overTargetOk: true },
    ],
    [
      'rejected: reason/client filter',
      (i) =>
        `/v1/rejected-events?reason=${pickFrom(['payload_invalid', 'unknown_event_type', 'payload_unstorable'], i)}&client_id=${pickFrom(['web-frontend', 'partner-widget'], i)}`,
    ],
  ];
}
