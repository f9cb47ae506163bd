// Stats SQL: counts per bucket from the per-minute counts (event_counts, kept by the worker's
// insert statement) or their hourly/daily rollups (kept by triggers), never from the events table
// except for a session_id filter, which reads that session's events through
// events_session_time_idx. Every bucket of the page is present: the page's buckets
// (generate_series) × the groups of the range, left-joined to the counts aggregated over those
// buckets only, so a page costs what its buckets hold whatever the range.
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { Sql, sqlTimestamp } from '../prisma/sql';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ANALYTICS_POOL, analyticsQuery } from './analytics-pool';
import type { GroupBy, Interval } from './stats.dto';

/** Where counts are read: a counts table (UTC minute, hour or day buckets) or one session's events. */
export type StatsSource = 'event_counts' | 'event_counts_hourly' | 'event_counts_daily' | 'session';

export interface StatsFilter {
  category?: string;
  name?: string;
  clientId?: string;
  sessionId?: string;
}

export interface StatsPageQuery {
  interval: Interval;
  tz: string;
  groupBy?: GroupBy;
  filter: StatsFilter;
  source: StatsSource;
  /** Inclusive bounds, RFC 3339 µs: buckets from the one containing `from` to the one containing `to`. */
  from: string;
  to: string;
  groups: [string, string][];
  after: [string, string, string] | null;
  take: number;
}

export interface StatsRow {
  bucket: string;
  k1: string;
  k2: string;
  count: string;
}

const STEP: Record<Interval, string> = {
  minute: '1 minute',
  hour: '1 hour',
  day: '1 day',
  week: '1 week',
  month: '1 month',
};

/** The two key columns of a group (the second is '' when one column names the group). */
const KEYS: Record<GroupBy | 'none', [string, string]> = {
  none: [`''::text`, `''::text`],
  category: ['c.category::text', `''::text`],
  name: ['c.category::text', 'c.name::text'],
  client_id: ['c.client_id::text', `''::text`],
};

function sourceSql(source: StatsSource, filter: StatsFilter, q: Sql): { from: string; where: string[] } {
  const where: string[] = [];
  if (filter.category !== undefined) where.push(`c.category = ${q.param(filter.category)}`);
  if (filter.name !== undefined) where.push(`c.name = ${q.param(filter.name)}`);
  if (filter.clientId !== undefined) where.push(`c.client_id = ${q.param(filter.clientId)}`);
  if (source === 'session') {
    return {
      from: `(SELECT e.timestamp AS bucket, e.category, e.name, e.client_id, 1 AS count FROM events e
        WHERE e.session_id = ${q.param(filter.sessionId)}) c`,
      where,
    };
  }
  return { from: `${source} c`, where };
}

@Injectable()
export class StatsRepository {
  constructor(
    @Inject(ANALYTICS_POOL) private readonly pool: Pool,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {}

  private run<R extends QueryResultRow>(
    sql: string,
    params: unknown[],
    db: Pick<Pool, 'query'> = this.pool,
  ): Promise<R[]> {
    return analyticsQuery<R>(db, this.config?.analyticsStatementTimeoutMs ?? 0, sql, params);
  }

  /** The first and last event times of a session (sessions_pkey), both tiers: the table outlives the move. */
  async sessionSpan(sessionId: string, db?: PoolClient): Promise<{ first: string; last: string } | null> {
    const rows = await this.run<{ first: string; last: string }>(
      `SELECT ${sqlTimestamp('first_event_at')} AS first, ${sqlTimestamp('last_event_at')} AS last
         FROM sessions WHERE session_id = $1`,
      [sessionId],
      db,
    );
    return rows[0] ?? null;
  }

  /** The groups having counts in [from, to] (read from `source`, the coarsest table covering the range). */
  async groups(
    groupBy: GroupBy,
    source: StatsSource,
    filter: StatsFilter,
    from: string,
    to: string,
    max: number,
    db?: PoolClient,
  ): Promise<[string, string][]> {
    const q = new Sql();
    const { from: fromSql, where } = sourceSql(source, filter, q);
    const unit = {
      event_counts: 'minute',
      event_counts_hourly: 'hour',
      event_counts_daily: 'day',
      session: 'microseconds',
    }[source];
    where.push(`c.bucket >= date_trunc('${unit}', ${q.param(from)}::timestamptz, 'UTC')`);
    where.push(`c.bucket <= ${q.param(to)}::timestamptz`);
    const [k1, k2] = KEYS[groupBy];
    const sql = `SELECT DISTINCT ${k1} AS k1, ${k2} AS k2 FROM ${fromSql} WHERE ${where.join(' AND ')}
      ORDER BY 1, 2 LIMIT ${q.param(max + 1)}`;
    return (await this.run<{ k1: string; k2: string }>(sql, q.params, db)).map((r) => [r.k1, r.k2]);
  }

  /** One page of (bucket, group) rows in (bucket, k1, k2) order, zero where nothing was counted. */
  async page(s: StatsPageQuery, db?: PoolClient): Promise<StatsRow[]> {
    const q = new Sql();
    const { from: fromSql, where } = sourceSql(s.source, s.filter, q);
    const unit = q.param(s.interval);
    const tz = q.param(s.tz);
    const step = `${q.param(STEP[s.interval])}::interval`;
    const start = s.after ? `${q.param(s.after[0])}::timestamptz` : `${q.param(s.from)}::timestamptz`;
    const to = `${q.param(s.to)}::timestamptz`;
    // Buckets the page can need: enough for `take` rows of every group, plus the cursor's own.
    const bucketsNeeded = q.param(Math.ceil(s.take / Math.max(1, s.groups.length)) + 1);
    // Day, week and month edges are local midnights (a day may last 23 or 25 hours): step in local
    // time. Minutes and hours are fixed lengths: step in absolute time.
    const buckets =
      s.interval === 'minute' || s.interval === 'hour'
        ? `SELECT b AS bucket, b + ${step} AS bucket_end
             FROM generate_series(date_trunc(${unit}, ${start}, ${tz}), ${to}, ${step}) AS b
             LIMIT ${bucketsNeeded}`
        : `SELECT b AT TIME ZONE ${tz} AS bucket, (b + ${step}) AT TIME ZONE ${tz} AS bucket_end
             FROM generate_series(date_trunc(${unit}, ${start} AT TIME ZONE ${tz}), ${to} AT TIME ZONE ${tz}, ${step}) AS b
             LIMIT ${bucketsNeeded}`;
    const [k1, k2] = KEYS[s.groupBy ?? 'none'];
    // Each bucket reads its own key range of the table (an index range scan per bucket, no
    // per-row time zone arithmetic).
    where.push('c.bucket >= b.bucket', 'c.bucket < b.bucket_end');
    const groups = s.groups.length ? s.groups : [['', ''] as [string, string]];
    const k1s = q.param(groups.map((g) => g[0]));
    const k2s = q.param(groups.map((g) => g[1]));
    const after = s.after
      ? `WHERE (b.bucket, g.k1, g.k2) > (${q.param(s.after[0])}::timestamptz, ${q.param(s.after[1])}, ${q.param(s.after[2])})`
      : '';
    const sql = `WITH buckets AS MATERIALIZED (${buckets}),
      grp AS (SELECT * FROM unnest(${k1s}::text[], ${k2s}::text[]) AS g(k1, k2)),
      counts AS (
        SELECT b.bucket, x.k1, x.k2, x.count FROM buckets b CROSS JOIN LATERAL (
          SELECT ${k1} AS k1, ${k2} AS k2, sum(c.count) AS count
            FROM ${fromSql} WHERE ${where.join(' AND ')} GROUP BY 1, 2) x)
      SELECT ${sqlTimestamp('b.bucket')} AS bucket, g.k1, g.k2, coalesce(n.count, 0)::text AS count
        FROM buckets b CROSS JOIN grp g
        LEFT JOIN counts n ON n.bucket = b.bucket AND n.k1 = g.k1 AND n.k2 = g.k2
        ${after}
        ORDER BY b.bucket, g.k1, g.k2 LIMIT ${q.param(s.take)}`;
    return this.run<StatsRow>(sql, q.params, db);
  }
}
