// The read paths' queries over the archive's Parquet files, run by the embedded DuckDB. Each
// answers in the PostgreSQL read path's row shapes (EventRow, StatsRow, per-step counts), with the
// same orders, bounds and cursors, so a later read spanning both tiers is a merge of two lists of
// identical rows. Only the files of the days a query's time range touches are opened
// (archive-layout.ts), and within a file DuckDB skips row groups by their min/max statistics:
// files are sorted by (session_id, timestamp, seq), so a session's timeline reads one range.
import { Inject, Injectable } from '@nestjs/common';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DIRECTION, eventWhere, type EventFilter, type EventRow } from '../analytics/analytics.repository';
import type { FunnelQuery } from '../analytics/funnels.repository';
import type { Order } from '../analytics/page.dto';
import type { GroupBy, Interval } from '../analytics/stats.dto';
import type { StatsFilter, StatsRow } from '../analytics/stats.repository';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Sql } from '../prisma/sql';
import { archiveFiles, archiveFilesByDay, utcDay } from './archive-layout';
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

@Injectable()
export class ArchiveReader {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly duckdb: DuckDbService,
  ) {}

  private files(from?: string, to?: string): Promise<string[]> {
    return archiveFiles(
      this.config.archiveDir,
      from === undefined ? undefined : utcDay(from),
      to === undefined ? undefined : utcDay(to),
    );
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
  private async walkDays(
    filter: EventFilter,
    order: Order,
    after: [string, string] | null,
  ): Promise<string[][]> {
    const days = await archiveFilesByDay(
      this.config.archiveDir,
      filter.from === undefined ? undefined : utcDay(filter.from),
      filter.to === undefined ? undefined : utcDay(filter.to),
    );
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
    filter: EventFilter,
    order: Order,
    after: [string, string] | null,
    take: number,
  ): Promise<EventRow[]> {
    const rows: EventRow[] = [];
    for (const files of await this.walkDays(filter, order, after)) {
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
   * open until the walk ends or is abandoned.
   */
  async *exportEvents(filter: EventFilter, order: Order = 'asc'): AsyncGenerator<EventRow[]> {
    for (const files of await this.walkDays(filter, order, null)) {
      const sql = this.eventsSql(files, filter, order, null);
      const connection: DuckDBConnection = await this.duckdb.connect();
      try {
        const result = await connection.stream(sql.text, sql.params as never);
        for (;;) {
          const chunk = await result.fetchChunk();
          if (chunk === null || chunk.rowCount === 0) break;
          yield (chunk.getColumns()[0] as string[]).map(unpackEventRow);
        }
      } finally {
        connection.closeSync();
      }
    }
  }

  /**
   * Counts per bucket and group in [from, to], in (bucket, k1, k2) order; only buckets holding
   * events (the stats service fills the empty ones). Rows shaped like StatsRepository.page's.
   */
  async counts(c: ArchiveCountsQuery): Promise<StatsRow[]> {
    const from = source(await this.files(c.from, c.to));
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
  async sessionsPerStep(f: FunnelQuery): Promise<number[]> {
    const withinUs = f.withinMs * 1000;
    const lastMs = Date.parse(f.to) + f.withinMs;
    const from = source(await this.files(f.from, new Date(lastMs).toISOString()));
    if (from === null) return f.steps.map(() => 0);
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
    const [row] = await this.rows<Record<string, string>>(sql, q.params);
    return f.steps.map((_s, i) => Number(row?.[`c${i + 1}`] ?? 0));
  }
}
