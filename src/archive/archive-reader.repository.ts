// The read paths' queries over the archive's Parquet files, run by the embedded DuckDB. Each
// answers in the PostgreSQL read path's row shapes (EventRow, StatsRow, per-step counts), with the
// same orders, bounds and cursors, so a read spanning both tiers is a merge of two lists of
// identical rows. Every query reads only the files it is given: the registered files
// (ArchiveCatalogRepository) of the read's snapshot, never a listing of the disk, where a file of
// a pass that died before registering it may lie. Of those, only the days a query's time range
// touches are opened, and within a file DuckDB skips row groups by their min/max statistics:
// files are sorted by (session_id, timestamp, seq), so a session's timeline reads one range.
import { Injectable } from '@nestjs/common';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DIRECTION, eventWhere, type EventFilter, type EventRow } from '../analytics/analytics.repository';
import type { FunnelQuery } from '../analytics/funnels.repository';
import type { Order } from '../analytics/page.dto';
import type { GroupBy, Interval } from '../analytics/stats.dto';
import type { StatsFilter, StatsRow } from '../analytics/stats.repository';
import type { EventViewRow } from '../common/event-view';
import { Sql } from '../prisma/sql';
import type { ArchiveDay } from './archive-catalog.repository';
import { utcDay } from './archive-layout';
import { sqlLiteral } from './archive-files.repository';
import { DuckDbService } from './duckdb.service';

/** A TIMESTAMPTZ column as RFC 3339 UTC with 6 digits, like prisma/sql.ts sqlTimestamp. */
function duckTimestamp(column: string): string {
  return `strftime(timezone('UTC', ${column}), '%Y-%m-%dT%H:%M:%S.%fZ')`;
}

/** Each EventRow field and its expression over the archive aliased as `e` (prisma/sql.ts EVENT_VIEW_COLUMNS). */
const EVENT_FIELDS: [keyof EventRow, string][] = [
  ['id', 'e.id::VARCHAR'],
  ['session_id', 'e.session_id'],
  ['category', 'e.category'],
  ['name', 'e.name'],
  ['data', 'e.data'],
  ['timestamp', duckTimestamp('e.timestamp')],
  ['received_at', duckTimestamp('e.received_at')],
  ['client_id', 'e.client_id'],
  ['seq', 'e.seq::VARCHAR'],
];

/**
 * The fields of an EventRow packed into one text joined by NUL, which no stored text can hold
 * (PostgreSQL refuses it in text and jsonb): the driver converts one value per row instead of
 * nine, the export's main cost (~3x the events/s of one JavaScript value per column).
 */
const PACKED_EVENT_ROW = `concat_ws(chr(0), ${EVENT_FIELDS.map(([, sql]) => sql).join(', ')}) AS r`;

function unpackEventRow(packed: string): EventRow {
  const f = packed.split('\0');
  const row = {} as EventRow;
  EVENT_FIELDS.forEach(([key], i) => (row[key] = f[i]));
  return row;
}

/** The two key columns of a stats group (stats.repository.ts KEYS). */
const KEYS: Record<GroupBy | 'none', [string, string]> = {
  none: [`''`, `''`],
  category: ['e.category', `''`],
  name: ['e.category', 'e.name'],
  client_id: ['e.client_id', `''`],
};

export interface ArchiveCountsQuery {
  interval: Interval;
  /** IANA time zone of the bucket edges (day, week and month edges are local midnights). */
  tz: string;
  groupBy?: GroupBy;
  filter: StatsFilter;
  /** Inclusive bounds, RFC 3339 µs. */
  from: string;
  to: string;
}

/** `read_parquet` over the given files; null when there are none (the query has nothing to read). */
function source(files: string[]): string | null {
  if (files.length === 0) return null;
  return `read_parquet([${files.map(sqlLiteral).join(', ')}], hive_partitioning = false)`;
}

/** A funnel's hot-tier rows (FunnelsRepository.stepRows): read together with the files. */
export interface FunnelHotRow {
  session_id: string;
  category: string;
  name: string;
  client_id: string;
  /** Microseconds since the epoch, as text (bigint). */
  ts_us: string;
}

/** The files of `days` whose day is in [from, to] (either bound open, RFC 3339 bounds). */
export function daysIn(days: ArchiveDay[], from?: string, to?: string): ArchiveDay[] {
  const fromDay = from === undefined ? undefined : utcDay(from);
  const toDay = to === undefined ? undefined : utcDay(to);
  return days.filter(
    (d) => (fromDay === undefined || d.day >= fromDay) && (toDay === undefined || d.day <= toDay),
  );
}

/** Thrown when `timeoutMs` ran out and DuckDB was interrupted. */
export class ArchiveQueryTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`archive query interrupted after ${timeoutMs} ms`);
  }
}

@Injectable()
export class ArchiveReader {
  constructor(private readonly duckdb: DuckDbService) {}

  private files(days: ArchiveDay[], from?: string, to?: string): string[] {
    return daysIn(days, from, to).flatMap((d) => d.files);
  }

  private async rows<R>(sql: string, params: unknown[]): Promise<R[]> {
    const reader = await this.duckdb.use((c) => c.runAndReadAll(sql, params as never));
    return reader.getRowObjects() as R[];
  }

  /**
   * The days a keyset walk over `filter` visits, in the walk's order, from the cursor's day on.
   * A day's files hold exactly the events of that UTC day, so days are disjoint ranges of the
   * sort key: a walk reads one day after another and stops when it has enough rows, instead of
   * sorting the whole range (a month's first page costs about a day's).
   */
  private walkDays(
    registered: ArchiveDay[],
    filter: EventFilter,
    order: Order,
    after: [string, string] | null,
  ): string[][] {
    const days = daysIn(registered, filter.from, filter.to);
    if (order === 'desc') days.reverse();
    const cursorDay = after === null ? undefined : utcDay(after[0]);
    const walk = days
      .filter((d) => cursorDay === undefined || (order === 'asc' ? d.day >= cursorDay : d.day <= cursorDay))
      .map((d) => d.files);
    // A session's events are a few rows found through each file's row-group statistics: one
    // query over every day (read in parallel) beats a day-by-day walk that rarely fills a page.
    return filter.sessionId !== undefined && walk.length > 1 ? [walk.flat()] : walk;
  }

  private eventsSql(
    files: string[],
    filter: EventFilter,
    order: Order,
    after: [string, string] | null,
    take?: number,
  ) {
    const q = new Sql();
    const dir = DIRECTION[order];
    eventWhere(filter, q, order, after);
    const order2 = `ORDER BY e.timestamp ${dir.sql}, e.seq ${dir.sql}`;
    // A page's rows are picked on the sort key first, then only they are rendered.
    const text =
      take === undefined
        ? `SELECT ${PACKED_EVENT_ROW} FROM ${source(files)} e ${q.whereClause()} ${order2}`
        : `SELECT ${PACKED_EVENT_ROW} FROM (SELECT * FROM ${source(files)} e ${q.whereClause()}
            ${order2} LIMIT ${q.param(take)}) e ${order2}`;
    return { text, params: q.params };
  }

  /**
   * Events in (timestamp, seq) order after the cursor `after` — AnalyticsRepository.events over
   * the archive: a session's timeline, a category+name page, a name alone, a client's events.
   */
  async events(
    days: ArchiveDay[],
    filter: EventFilter,
    order: Order,
    after: [string, string] | null,
    take: number,
  ): Promise<EventRow[]> {
    const rows: EventRow[] = [];
    for (const files of this.walkDays(days, filter, order, after)) {
      const sql = this.eventsSql(files, filter, order, after, take - rows.length);
      rows.push(
        ...(await this.rows<{ r: string }>(sql.text, sql.params)).map((row) => unpackEventRow(row.r)),
      );
      if (rows.length >= take) break;
    }
    return rows;
  }

  /**
   * Every event matching `filter` in (timestamp, seq) order, as a stream of chunks of DuckDB's
   * vector size, one day after another: memory holds one chunk on the JavaScript side and at most
   * DuckDB's memory_limit on its own (the sort of a day spills beyond it). The connection stays
   * open until the walk ends or is abandoned. `after`: resume after this (timestamp, seq).
   */
  async *exportEvents(
    days: ArchiveDay[],
    filter: EventFilter,
    order: Order = 'asc',
    after: [string, string] | null = null,
  ): AsyncGenerator<EventRow[]> {
    for (const files of this.walkDays(days, filter, order, after)) {
      const sql = this.eventsSql(files, filter, order, after);
      const connection: DuckDBConnection = await this.duckdb.connect();
      try {
        const result = await connection.stream(sql.text, sql.params as never);
        for (;;) {
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) break;
          yield (chunk.getColumns()[0] as string[]).map(unpackEventRow);
        }
      } finally {
        this.duckdb.release(connection);
      }
    }
  }

  /**
   * Counts per bucket and group in [from, to], in (bucket, k1, k2) order; only buckets holding
   * events (the stats service fills the empty ones). Rows shaped like StatsRepository.page's.
   */
  async counts(days: ArchiveDay[], c: ArchiveCountsQuery): Promise<StatsRow[]> {
    const from = source(this.files(days, c.from, c.to));
    if (from === null) return [];
    const q = new Sql();
    eventWhere({ ...c.filter, from: c.from, to: c.to }, q);
    const unit = q.param(c.interval);
    const tz = q.param(c.tz);
    const [k1, k2] = KEYS[c.groupBy ?? 'none'];
    const sql = `SELECT ${duckTimestamp('b.bucket')} AS bucket, b.k1, b.k2, count(*)::VARCHAR AS count
      FROM (SELECT timezone(${tz}, date_trunc(${unit}, timezone(${tz}, e.timestamp))) AS bucket,
          ${k1} AS k1, ${k2} AS k2
        FROM ${from} e ${q.whereClause()}) b
      GROUP BY b.bucket, b.k1, b.k2 ORDER BY b.bucket, b.k1, b.k2`;
    return this.rows<StatsRow>(sql, q.params);
  }

  /**
   * Sessions that reached each step, in step order — FunnelsRepository.sessionsPerStep over the
   * archive, same semantics: step 1 is a session's first event of its type in [from, to]; step k
   * its earliest event of step k's type after step k-1 and at most `within` after step 1. One
   * pass gathers each session's timestamps per step as lists (GROUP BY session_id), then each
   * step is a list_filter over the previous step's time: no join per step (STACK.md measured a
   * join 2.3× slower and window functions 4× slower on a day of the commonest types).
   */
  async sessionsPerStep(
    days: ArchiveDay[],
    f: FunnelQuery,
    hot: FunnelHotRow[] = [],
    timeoutMs = 0,
  ): Promise<number[]> {
    const lastMs = Date.parse(f.to) + f.withinMs;
    const files = source(this.files(days, f.from, new Date(lastMs).toISOString()));
    if (files === null && hot.length === 0) return f.steps.map(() => 0);
    return this.duckdb.use(async (connection) => {
      // The limit covers staging the hot rows too; interrupt() stops DuckDB between vectors.
      let timedOut = false;
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              timedOut = true;
              connection.interrupt();
            }, timeoutMs)
          : undefined;
      try {
        const parts: string[] = [];
        if (files !== null)
          parts.push(`SELECT session_id, category, name, client_id, timestamp FROM ${files}`);
        if (hot.length > 0) {
          await this.stageHot(connection, hot);
          // An interrupt while appending is not kept for the next statement.
          if (timedOut) throw new ArchiveQueryTimeout(timeoutMs);
          parts.push(`SELECT session_id, category, name, client_id,
            timezone('UTC', make_timestamp(ts_us)) AS timestamp FROM funnel_hot`);
        }
        const sql = this.funnelSql(f, `(${parts.join(' UNION ALL ')})`);
        const reader = await connection.runAndReadAll(sql.text, sql.params as never);
        const [row] = reader.getRowObjects() as Record<string, string>[];
        return f.steps.map((_s, i) => Number(row?.[`c${i + 1}`] ?? 0));
      } catch (err) {
        if (timedOut) throw new ArchiveQueryTimeout(timeoutMs);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  /** The hot tier's step rows as the temporary table funnel_hot of this connection. */
  private async stageHot(connection: DuckDBConnection, hot: FunnelHotRow[]): Promise<void> {
    const { BIGINT, VARCHAR, DuckDBDataChunk } = await import('@duckdb/node-api');
    await connection.run(`CREATE TEMP TABLE funnel_hot (session_id VARCHAR, category VARCHAR, name VARCHAR,
      client_id VARCHAR, ts_us BIGINT)`);
    const appender = await connection.createAppender('funnel_hot', 'main', 'temp');
    try {
      for (let start = 0; start < hot.length; start += 2048) {
        const part = hot.slice(start, start + 2048);
        const chunk = DuckDBDataChunk.create([VARCHAR, VARCHAR, VARCHAR, VARCHAR, BIGINT], part.length);
        chunk.setColumns([
          part.map((r) => r.session_id),
          part.map((r) => r.category),
          part.map((r) => r.name),
          part.map((r) => r.client_id),
          part.map((r) => BigInt(r.ts_us)),
        ]);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  private funnelSql(f: FunnelQuery, from: string): { text: string; params: unknown[] } {
    const withinUs = f.withinMs * 1000;
    const q = new Sql();
    const fromTs = `${q.param(f.from)}::TIMESTAMPTZ`;
    const toTs = `${q.param(f.to)}::TIMESTAMPTZ`;
    const within = `to_microseconds(${q.param(withinUs)}::BIGINT)`;
    const isStep = f.steps.map(
      (s) => `(e.category = ${q.param(s.category)} AND e.name = ${q.param(s.name)})`,
    );
    const client = f.clientId === undefined ? '' : ` AND e.client_id = ${q.param(f.clientId)}`;
    const lists = f.steps
      .slice(1)
      .map((_s, i) => `list(e.timestamp) FILTER (WHERE ${isStep[i + 1]}) AS l${i + 2}`);
    const steps = [
      `f1 AS (SELECT s.*, s.t1 AS p1 FROM s)`,
      ...f.steps.slice(1).map(
        (_s, i) =>
          `f${i + 2} AS (SELECT f.*, list_min(list_filter(f.l${i + 2},
            lambda x: x > f.p${i + 1} AND x <= f.t1 + ${within})) AS p${i + 2} FROM f${i + 1} f)`,
      ),
    ];
    const sql = `WITH s AS (
        SELECT e.session_id,
          min(e.timestamp) FILTER (WHERE ${isStep[0]} AND e.timestamp <= ${toTs}) AS t1
          ${lists.map((l) => `, ${l}`).join('')}
        FROM ${from} e
        WHERE e.timestamp >= ${fromTs} AND e.timestamp <= ${toTs} + ${within}
          AND (${isStep.join(' OR ')})${client}
        GROUP BY e.session_id
        HAVING t1 IS NOT NULL),
      ${steps.join(',\n')}
      SELECT ${f.steps.map((_s, i) => `count(p${i + 1})::VARCHAR AS c${i + 1}`).join(', ')} FROM f${f.steps.length}`;
    return { text: sql, params: q.params };
  }

  /**
   * The events with this id in `files`: one client's, or every client's by client_id (at most
   * `limit`) — EventsRepository.stored over the archive. Each file's row groups are pruned by
   * the id's min/max statistics only loosely (files are sorted by session), so this reads the
   * id column of every file it is given: the caller narrows `files` to the event's day when it can.
   */
  async byId(
    files: string[],
    id: string,
    clientId: string | undefined,
    limit: number,
  ): Promise<EventViewRow[]> {
    const from = source(files);
    if (from === null) return [];
    const q = new Sql();
    q.and(`e.id = ${q.param(id)}::UUID`);
    if (clientId !== undefined) q.and(`e.client_id = ${q.param(clientId)}`);
    const sql = `SELECT ${PACKED_EVENT_ROW} FROM ${from} e ${q.whereClause()}
      ORDER BY e.client_id LIMIT ${q.param(limit)}`;
    return (await this.rows<{ r: string }>(sql, q.params)).map((row) => unpackEventRow(row.r));
  }
}
