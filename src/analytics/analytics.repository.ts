// The analytics SQL, in one place. Every list is a keyset scan: `WHERE (sort key) > (last key of
// the previous page) ORDER BY sort key LIMIT n+1`, so page 1,000 costs what page 1 costs and rows
// inserted meanwhile never shift a page. Each query notes the index it relies on; see
// docs/analytics-performance.md for the EXPLAIN plans at 1M events (scripts/explain.ts).
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { EventViewRow } from '../common/event-view';
import { EVENT_VIEW_COLUMNS, Sql, sqlTimestamp } from '../prisma/sql';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ANALYTICS_POOL, analyticsQuery } from './analytics-pool';
import type { Order } from './page.dto';
import type { SummaryGroupBy } from './rejected.dto';
import type { TimeRange } from './time-range';

export interface EventFilter extends TimeRange {
  sessionId?: string;
  category?: string;
  name?: string;
  clientId?: string;
}

export interface RejectedFilter extends TimeRange {
  reason?: string;
  clientId?: string;
  category?: string;
  name?: string;
}

export type EventRow = EventViewRow & { seq: string };

export interface SessionRow {
  session_id: string;
  first_event_at: string;
  last_event_at: string;
  event_count: string;
  client_ids: string[];
}

/** The grouping keys of the quarantine summary (reason, category, name); '' where not grouped by. */
const SUMMARY_KEYS: Record<SummaryGroupBy, [string, string, string]> = {
  'reason,type': ['reason', 'g.category::text', 'g.name::text'],
  reason: ['reason', "''::text", "''::text"],
  type: ["''::text", 'g.category::text', 'g.name::text'],
};

export interface RejectedSummaryRow {
  reason: string;
  category: string;
  name: string;
  count: string;
  last_rejected_at: string;
}

export interface RejectedRow {
  id: string;
  reasons: string[];
  /** JSON text of the errors array, spliced into the response as stored. */
  errors: string;
  raw: string;
  received_at: string;
  rejected_at: string;
  client_id: string;
  seq: string;
}

export const DIRECTION: Record<Order, { sql: 'ASC' | 'DESC'; after: '>' | '<' }> = {
  asc: { sql: 'ASC', after: '>' },
  desc: { sql: 'DESC', after: '<' },
};

/**
 * The conditions of an events query over events aliased as `e`, with its keyset cursor `after`
 * (timestamp, seq) when there is one. The archive (DuckDB over Parquet) uses them too: both tiers
 * must select the same rows for a read spanning them to be a merge of two lists.
 */
export function eventWhere(
  filter: EventFilter,
  q: Sql,
  order: Order = 'asc',
  after: [string, string] | null = null,
): void {
  if (filter.sessionId !== undefined) q.and(`e.session_id = ${q.param(filter.sessionId)}`);
  if (filter.category !== undefined) q.and(`e.category = ${q.param(filter.category)}`);
  if (filter.name !== undefined) q.and(`e.name = ${q.param(filter.name)}`);
  if (filter.clientId !== undefined) q.and(`e.client_id = ${q.param(filter.clientId)}`);
  if (filter.from !== undefined) q.and(`e.timestamp >= ${q.param(filter.from)}::timestamptz`);
  if (filter.to !== undefined) q.and(`e.timestamp <= ${q.param(filter.to)}::timestamptz`);
  if (after) {
    q.and(
      `(e.timestamp, e.seq) ${DIRECTION[order].after} (${q.param(after[0])}::timestamptz, ${q.param(after[1])}::bigint)`,
    );
  }
}

@Injectable()
export class AnalyticsRepository {
  constructor(
    @Inject(ANALYTICS_POOL) private readonly pool: Pool,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {}

  /** Every analytics statement goes through here: a timeout or an exhausted pool becomes a clear 503. */
  private run<R extends QueryResultRow>(
    sql: string,
    params: unknown[],
    db: Pick<Pool, 'query'> = this.pool,
  ): Promise<R[]> {
    return analyticsQuery<R>(db, this.config?.analyticsStatementTimeoutMs ?? 0, sql, params);
  }

  /**
   * Events in (timestamp, seq) order. Index by filter (the planner picks the narrowest):
   * session_id → events_session_time_idx (session_id, timestamp, seq);
   * category+name → events_type_time_idx (category, name, timestamp, seq);
   * category alone → events_category_time_idx (category, timestamp, seq);
   * name alone → events_name_time_idx (name, timestamp, seq);
   * client_id → events_client_time_idx (client_id, timestamp, seq);
   * time range only / nothing → events_time_idx (timestamp, seq).
   * `db`: a tiered read's snapshot transaction (ArchiveCatalogRepository.snapshot).
   */
  async events(
    filter: EventFilter,
    order: Order,
    after: [string, string] | null,
    take: number,
    db?: PoolClient,
  ): Promise<EventRow[]> {
    const q = new Sql();
    const dir = DIRECTION[order];
    eventWhere(filter, q, order, after);
    const sql = `SELECT ${EVENT_VIEW_COLUMNS}, e.seq::text AS seq FROM events e ${q.whereClause()}
      ORDER BY e.timestamp ${dir.sql}, e.seq ${dir.sql} LIMIT ${q.param(take)}`;
    return this.run<EventRow>(sql, q.params, db);
  }

  /** Session summaries by (first_event_at, session_id): sessions_first_event_idx + incremental sort on ties. */
  async sessions(
    range: TimeRange,
    order: Order,
    after: [string, string] | null,
    take: number,
  ): Promise<SessionRow[]> {
    const q = new Sql();
    const dir = DIRECTION[order];
    if (range.from !== undefined) q.and(`s.first_event_at >= ${q.param(range.from)}::timestamptz`);
    if (range.to !== undefined) q.and(`s.first_event_at <= ${q.param(range.to)}::timestamptz`);
    if (after) {
      q.and(
        `(s.first_event_at, s.session_id) ${dir.after} (${q.param(after[0])}::timestamptz, ${q.param(after[1])})`,
      );
    }
    const sql = `SELECT s.session_id, ${sqlTimestamp('s.first_event_at')} AS first_event_at,
        ${sqlTimestamp('s.last_event_at')} AS last_event_at, s.event_count::text AS event_count,
        coalesce(s.client_ids, '{}') AS client_ids
      FROM sessions s ${q.whereClause()}
      ORDER BY s.first_event_at ${dir.sql}, s.session_id ${dir.sql} LIMIT ${q.param(take)}`;
    return this.run<SessionRow>(sql, q.params);
  }

  /**
   * The quarantine by (rejected_at, seq). Index: rejected_client_time_idx with client_id,
   * rejected_type_time_idx with category+name, else rejected_time_idx; `reason` is a filter.
   */
  async rejected(
    filter: RejectedFilter,
    order: Order,
    after: [string, string] | null,
    take: number,
  ): Promise<RejectedRow[]> {
    const q = new Sql();
    const dir = DIRECTION[order];
    if (filter.reason !== undefined) q.and(`${q.param(filter.reason)} = ANY(r.reasons)`);
    if (filter.clientId !== undefined) q.and(`r.client_id = ${q.param(filter.clientId)}`);
    if (filter.category !== undefined) q.and(`r.category = ${q.param(filter.category)}`);
    if (filter.name !== undefined) q.and(`r.name = ${q.param(filter.name)}`);
    if (filter.from !== undefined) q.and(`r.rejected_at >= ${q.param(filter.from)}::timestamptz`);
    if (filter.to !== undefined) q.and(`r.rejected_at <= ${q.param(filter.to)}::timestamptz`);
    if (after) {
      q.and(
        `(r.rejected_at, r.seq) ${dir.after} (${q.param(after[0])}::timestamptz, ${q.param(after[1])}::bigint)`,
      );
    }
    const sql = `SELECT r.event_id::text AS id, coalesce(r.reasons, '{}') AS reasons, r.errors::text AS errors, r.raw,
        ${sqlTimestamp('r.received_at')} AS received_at, ${sqlTimestamp('r.rejected_at')} AS rejected_at,
        r.client_id, r.seq::text AS seq
      FROM rejected_events r ${q.whereClause()}
      ORDER BY r.rejected_at ${dir.sql}, r.seq ${dir.sql} LIMIT ${q.param(take)}`;
    return this.run<RejectedRow>(sql, q.params);
  }

  /**
   * Quarantine counts per (reason, category, name), most frequent first. Reads the rows of the
   * range from rejected_time_idx (or rejected_client_time_idx with client_id), index-only as they
   * INCLUDE category, name and reasons; the groups are few (reasons × types), so each page
   * aggregates the range and keeps the groups after the cursor.
   */
  async rejectedSummary(
    filter: { from?: string; to?: string; clientId?: string },
    groupBy: SummaryGroupBy,
    after: string[] | null,
    take: number,
  ): Promise<RejectedSummaryRow[]> {
    const keys = SUMMARY_KEYS[groupBy];
    const q = new Sql();
    if (filter.clientId !== undefined) q.and(`r.client_id = ${q.param(filter.clientId)}`);
    if (filter.from !== undefined) q.and(`r.rejected_at >= ${q.param(filter.from)}::timestamptz`);
    if (filter.to !== undefined) q.and(`r.rejected_at <= ${q.param(filter.to)}::timestamptz`);
    const tuple = `(${keys.join(', ')})`;
    const grouped = keys.filter((k) => !k.startsWith("''")).join(', ');
    const having = after
      ? `HAVING sum(g.n) < ${q.param(after[0])}::bigint OR (sum(g.n) = ${q.param(after[0])}::bigint
           AND ${tuple} > (${q.param(after[1])}, ${q.param(after[2])}, ${q.param(after[3])}))`
      : '';
    // Rows are grouped by their whole reasons array first (a few groups), then the groups are
    // unnested: each row is hashed once instead of once per reason. Per type alone, nothing is
    // unnested: each event counts once.
    const sql = `SELECT ${keys[0]} AS reason, ${keys[1]} AS category, ${keys[2]} AS name,
        sum(g.n)::text AS count, ${sqlTimestamp('max(g.last_at)')} AS last_rejected_at
      FROM (SELECT r.reasons, r.category, r.name, count(*) AS n, max(r.rejected_at) AS last_at
        FROM rejected_events r ${q.whereClause()} GROUP BY r.reasons, r.category, r.name) g
      ${groupBy === 'type' ? '' : 'CROSS JOIN LATERAL unnest(g.reasons) AS reason'}
      GROUP BY ${grouped} ${having}
      ORDER BY sum(g.n) DESC, ${grouped} LIMIT ${q.param(take)}`;
    return this.run<RejectedSummaryRow>(sql, q.params);
  }
}
