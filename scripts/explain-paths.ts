// The query paths scripts/explain.ts plans: each a call of the service's own repository method, so
// the SQL explained is the SQL the API runs.
import type { AnalyticsRepository } from '../src/analytics/analytics.repository';
import type { FunnelQuery, FunnelsRepository } from '../src/analytics/funnels.repository';
import type { StatsPageQuery, StatsRepository } from '../src/analytics/stats.repository';
import type { SchemasRepository } from '../src/schemas/schemas.repository';

export interface Repositories {
  analytics: AnalyticsRepository;
  stats: StatsRepository;
  funnels: FunnelsRepository;
  schemas: SchemasRepository;
}

/** Positions and groups read from the seeded database, so deep pages and group lists are real. */
export interface ExplainSamples {
  session: string;
  deep: { ts: string; seq: string };
  deepType: { ts: string; seq: string };
  firstSession: { ts: string; session_id: string };
  rejected: { ts: string; seq: string };
  typeGroups: [string, string][];
  clientGroups: [string, string][];
}

type Range = { from: string; to: string };
type Call = (r: Repositories) => Promise<unknown>;
/** [label, call, options]: `funnel` runs it under the funnel's planner settings. */
export type ExplainPath = [string, Call, { funnel?: boolean; allowSeqScan?: boolean }?];

/** Every query path the API serves: [label, (repo) => call]. */
export function paths(s: ExplainSamples): ExplainPath[] {
  const day: Range = {
    from: '2026-10-15T00:00:00.000000Z',
    to: '2026-10-15T23:59:59.999999Z',
  };
  const month: Range = {
    from: '2026-10-01T00:00:00.000000Z',
    to: '2026-10-31T23:59:59.999999Z',
  };
  return [
    ['session timeline', (r) => r.analytics.events({ sessionId: s.session }, 'asc', null, 101)],
    ['events: no filter (first page)', (r) => r.analytics.events({}, 'asc', null, 101)],
    ['events: no filter, desc', (r) => r.analytics.events({}, 'desc', null, 101)],
    ['events: time range (1 day)', (r) => r.analytics.events(day, 'asc', null, 101)],
    [
      'events: category (common)',
      (r) => r.analytics.events({ category: 'page interaction' }, 'asc', null, 101),
    ],
    ['events: category (rare)', (r) => r.analytics.events({ category: 'experiment' }, 'asc', null, 101)],
    [
      'events: category+name',
      (r) => r.analytics.events({ category: 'form interaction', name: 'submit' }, 'asc', null, 101),
    ],
    [
      'events: category+name + time range, desc',
      (r) => r.analytics.events({ category: 'form interaction', name: 'submit', ...day }, 'desc', null, 101),
    ],
    ['events: name only', (r) => r.analytics.events({ name: 'video play' }, 'asc', null, 101)],
    ['events: name only (rare)', (r) => r.analytics.events({ name: 'exposure' }, 'asc', null, 101)],
    ['events: client_id', (r) => r.analytics.events({ clientId: 'partner-widget' }, 'asc', null, 101)],
    [
      'events: client_id (rare) + time range',
      (r) => r.analytics.events({ clientId: 'legacy-importer', ...day }, 'asc', null, 101),
    ],
    [
      'events: category + client_id',
      (r) => r.analytics.events({ category: 'search', clientId: 'legacy-importer' }, 'asc', null, 101),
    ],
    [
      'events: session + category',
      (r) => r.analytics.events({ sessionId: s.session, category: 'page interaction' }, 'asc', null, 101),
    ],
    [
      'events: deep cursor (900k rows in)',
      (r) => r.analytics.events({}, 'asc', [s.deep.ts, s.deep.seq], 101),
    ],
    [
      'events: deep cursor, category+name',
      (r) =>
        r.analytics.events(
          { category: 'form interaction', name: 'submit' },
          'asc',
          [s.deepType.ts, s.deepType.seq],
          101,
        ),
    ],
    ['events: limit 1000, time range', (r) => r.analytics.events(month, 'asc', null, 1001)],
    ['sessions: no filter', (r) => r.analytics.sessions({}, 'asc', null, 101)],
    ['sessions: from/to (1 day), desc', (r) => r.analytics.sessions(day, 'desc', null, 101)],
    [
      'sessions: deep cursor',
      (r) => r.analytics.sessions({}, 'asc', [s.firstSession.ts, s.firstSession.session_id], 101),
    ],
    ...statsPaths(s, day, month),
    ['rejected: newest first', (r) => r.analytics.rejected({}, 'desc', null, 101)],
    ['rejected: reason', (r) => r.analytics.rejected({ reason: 'unknown_event_type' }, 'desc', null, 101)],
    ['rejected: client_id', (r) => r.analytics.rejected({ clientId: 'partner-widget' }, 'desc', null, 101)],
    [
      'rejected: category+name + time range',
      (r) =>
        r.analytics.rejected({ category: 'form interaction', name: 'submit', ...day }, 'desc', null, 101),
    ],
    [
      'rejected: rare reason + client',
      (r) =>
        r.analytics.rejected(
          { reason: 'payload_unstorable', clientId: 'legacy-importer' },
          'desc',
          null,
          101,
        ),
    ],
    ['rejected: deep cursor', (r) => r.analytics.rejected({}, 'desc', [s.rejected.ts, s.rejected.seq], 101)],
    ['rejected summary: 30 days', (r) => r.analytics.rejectedSummary(month, 'reason,type', null, 101)],
    [
      'rejected summary: client, 1 day',
      (r) => r.analytics.rejectedSummary({ ...day, clientId: 'partner-widget' }, 'reason,type', null, 101),
    ],
    ...funnelPaths(s, day, month),
    ['schema of one type (newest version)', (r) => r.schemas.inForceOf('page interaction', 'pageview')],
  ];
}

/** Stats pages as the service asks them (groups listed first, then one page of buckets × groups). */
function statsPaths(s: ExplainSamples, day: Range, month: Range): ExplainPath[] {
  const page =
    (over: Partial<StatsPageQuery> & Pick<StatsPageQuery, 'interval' | 'source' | 'from' | 'to'>): Call =>
    (r) =>
      r.stats.page({
        tz: 'UTC',
        filter: {},
        groups: [],
        after: null,
        take: 101,
        ...over,
      });
  return [
    [
      'stats groups: types, 30 days (daily rollup)',
      (r) => r.stats.groups('name', 'event_counts_daily', {}, month.from, month.to, 1000),
    ],
    ['stats: minute total, 1 day', page({ interval: 'minute', source: 'event_counts', ...day })],
    [
      'stats: hour by type, 30 days',
      page({
        interval: 'hour',
        groupBy: 'name',
        source: 'event_counts_hourly',
        ...month,
        groups: s.typeGroups,
      }),
    ],
    [
      'stats: day by client, 30 days',
      page({
        interval: 'day',
        groupBy: 'client_id',
        source: 'event_counts_daily',
        ...month,
        groups: s.clientGroups,
      }),
    ],
    [
      'stats: day by type, Europe/Paris (hourly rollup)',
      page({
        interval: 'day',
        tz: 'Europe/Paris',
        groupBy: 'name',
        source: 'event_counts_hourly',
        ...month,
        groups: s.typeGroups,
      }),
    ],
    [
      'stats: week, category filter',
      page({
        interval: 'week',
        source: 'event_counts_daily',
        filter: { category: 'form interaction' },
        ...month,
      }),
    ],
    [
      'stats: month, client filter',
      page({
        interval: 'month',
        source: 'event_counts_daily',
        filter: { clientId: 'legacy-importer' },
        from: '2026-01-01T00:00:00.000000Z',
        to: '2026-12-31T23:59:59.999999Z',
      }),
    ],
    [
      'stats: day, name filter, 30 days',
      page({ interval: 'day', source: 'event_counts_daily', filter: { name: 'submit' }, ...month }),
    ],
    [
      'stats: hour by client, category+name filter, 1 day',
      page({
        interval: 'hour',
        groupBy: 'client_id',
        source: 'event_counts_hourly',
        filter: { category: 'form interaction', name: 'submit' },
        ...day,
        groups: s.clientGroups,
      }),
    ],
    [
      'stats: week, Europe/Paris, client filter (hourly rollup)',
      page({
        interval: 'week',
        tz: 'Europe/Paris',
        source: 'event_counts_hourly',
        filter: { clientId: 'mobile-ios' },
        from: '2026-09-30T22:00:00.000000Z',
        to: '2026-10-31T22:59:59.999999Z',
      }),
    ],
    [
      'stats: month by type, America/New_York, 1 year (hourly rollup)',
      page({
        interval: 'month',
        tz: 'America/New_York',
        groupBy: 'name',
        source: 'event_counts_hourly',
        from: '2026-01-01T05:00:00.000000Z',
        to: '2027-01-01T04:59:59.999999Z',
        groups: s.typeGroups,
      }),
    ],
    [
      'stats: hour, session filter',
      page({
        interval: 'hour',
        source: 'session',
        filter: { sessionId: s.session },
        ...month,
      }),
    ],
  ];
}

function funnelPaths(_s: ExplainSamples, day: Range, month: Range): ExplainPath[] {
  const steps = [
    { category: 'page interaction', name: 'pageview' },
    { category: 'page interaction', name: 'cta click' },
    { category: 'form interaction', name: 'submit' },
  ];
  const week = { from: '2026-10-12T00:00:00.000000Z', to: '2026-10-18T23:59:59.999999Z' };
  const rare = [
    { category: 'experiment', name: 'exposure' },
    { category: 'form interaction', name: 'submit' },
  ];
  const funnel =
    (q: Partial<FunnelQuery> & Range): Call =>
    (r) =>
      r.funnels.sessionsPerStep({ steps, withinMs: 1_800_000, ...q });
  return [
    ['funnel: 3 steps, 30m, 1 day', funnel(day), { funnel: true }],
    [
      'funnel: 3 steps, 30m, 1 day, client_id',
      funnel({ ...day, clientId: 'partner-widget' }),
      { funnel: true },
    ],
    [
      'funnel: rare step 1 (exposure → submit), 1h, 30 days',
      funnel({ ...month, steps: rare, withinMs: 3_600_000 }),
      { funnel: true },
    ],
    ['funnel: 3 steps, 30m, 7 days', funnel(week), { funnel: true }],
    ['funnel: 3 steps, 30m, 30 days (step 1 = 55 % of events)', funnel(month), { funnel: true }],
  ];
}
