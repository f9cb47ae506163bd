import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { ArchiveCatalogRepository } from '../archive/archive-catalog.repository';
import { utcDay } from '../archive/archive-layout';
import { type ArchiveCountsQuery, ArchiveReader, daysIn } from '../archive/archive-reader.repository';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { formatMicros, nowMicros } from '../common/timestamp';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { ANALYTICS_POOL, analyticsQueryError } from './analytics-pool';
import { DEFAULT_LIMIT } from './page.dto';
import type { GroupBy, Interval, StatsPageDto, StatsQueryDto, StatsRowDto } from './stats.dto';
import { type StatsRow, type StatsSource, StatsRepository } from './stats.repository';
import { offsetMs, parseBound } from './time-range';

/** Buckets one query may span (e.g. a week of minutes): beyond, a clearer question is needed. */
export const MAX_BUCKETS = 10_000;
/** Groups (types, categories or clients) one query may span. */
export const MAX_GROUPS = 1_000;

const HOUR_US = 3_600_000_000;
const DAY_US = 24 * HOUR_US;
const STEP_US: Record<Interval, number> = {
  minute: 60_000_000,
  hour: HOUR_US,
  day: DAY_US,
  week: 7 * DAY_US,
  month: 30 * DAY_US,
};
/** Range when `from` is absent: the last 60 minutes, 48 hours, 30 days, 12 weeks or ~12 months up to `to`. */
const DEFAULT_SPAN_US: Record<Interval, number> = {
  minute: 60 * 60_000_000,
  hour: 48 * HOUR_US,
  day: 30 * DAY_US,
  week: 12 * 7 * DAY_US,
  month: 365 * DAY_US,
};

/** Counts per bucket, every bucket present, read from the counts tables (stats.repository.ts). */
@Injectable()
export class StatsService {
  constructor(
    private readonly repo: StatsRepository,
    @Inject(ANALYTICS_POOL) private readonly pool: Pool,
    private readonly catalog: ArchiveCatalogRepository,
    private readonly reader: ArchiveReader,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {}

  /**
   * A session's counts over both tiers: the counts tables hold no session, so a session_id filter
   * reads its events. In one snapshot (ArchiveCatalogRepository.snapshot) the session's span
   * (sessions, which the move leaves alone) picks the registered files of its days in the range;
   * DuckDB counts their events per bucket (a few rows: the files are sorted by session), and the
   * hot page (every bucket and group, zeros included) gets them added. The snapshot stays open
   * while DuckDB counts so that the page and the files are of one moment.
   */
  private async sessionTiers(
    sessionId: string,
    c: ArchiveCountsQuery,
    page: (db: PoolClient, archived: StatsRow[]) => Promise<StatsRow[]>,
  ): Promise<StatsRow[]> {
    try {
      return await this.catalog.snapshotWithDays(
        this.pool,
        utcDay(c.from),
        utcDay(c.to),
        async (db, registered) => {
          const span = await this.repo.sessionSpan(sessionId, db);
          const days = span === null ? [] : daysIn(registered, span.first, span.last);
          const archived = days.length === 0 ? [] : await this.reader.counts(days, c);
          return page(db, archived);
        },
      );
    } catch (err) {
      throw analyticsQueryError(err, this.config?.analyticsStatementTimeoutMs ?? 0);
    }
  }

  async stats(query: StatsQueryDto): Promise<StatsPageDto> {
    const interval: Interval = query.interval ?? 'hour';
    const tz = query.tz ?? 'UTC';
    const groupBy: GroupBy | undefined = query.group_by;
    const limit = query.limit ?? DEFAULT_LIMIT;
    const to = query.to === undefined ? nowMicros() : parseBound(query.to, true, tz);
    const from =
      query.from === undefined
        ? (to ?? 0) - DEFAULT_SPAN_US[interval] + STEP_US[interval]
        : parseBound(query.from, false, tz);
    if (from === null || to === null) throw ApiError.validation([{ path: '/from', message: 'bad bound' }]);
    if (from > to) throw ApiError.validation([{ path: '/from', message: 'from must not be after to' }]);
    const buckets = Math.floor((to - from) / STEP_US[interval]) + 1;
    if (buckets > MAX_BUCKETS) {
      throw ApiError.validation(
        [
          {
            path: '/interval',
            message:
              `from..to spans about ${buckets} ${interval} buckets; at most ${MAX_BUCKETS}: ` +
              'use a larger interval or a shorter range',
          },
        ],
        'Too many buckets',
      );
    }
    const filter = {
      category: query.category,
      name: query.name,
      clientId: query.client_id,
      sessionId: query.session_id,
    };
    const fromText = formatMicros(from);
    const toText = formatMicros(to);
    const kind = `stats:${interval}:${groupBy ?? 'total'}:${tz}`;
    const after = query.cursor ? decodeCursor(query.cursor, kind, 'asc', ['ts', 'key', 'key']) : null;

    const page = async (db?: PoolClient, archived: StatsRow[] = []): Promise<StatsRow[]> => {
      let groups: [string, string][] = [];
      if (groupBy !== undefined) {
        groups = await this.repo.groups(
          groupBy,
          groupSource(from, to, filter.sessionId),
          filter,
          fromText,
          toText,
          MAX_GROUPS,
          db,
        );
        groups = withArchivedGroups(groups, archived);
        if (groups.length > MAX_GROUPS) {
          throw ApiError.validation(
            [{ path: '/group_by', message: `more than ${MAX_GROUPS} groups in range: add a filter` }],
            'Too many groups',
          );
        }
      }
      const rows = await this.repo.page(
        {
          interval,
          tz,
          groupBy,
          filter,
          source: countSource(interval, tz, from, to, filter.sessionId),
          from: fromText,
          to: toText,
          groups,
          after: after ? [after[0], after[1], after[2]] : null,
          take: limit + 1,
        },
        db,
      );
      return addArchived(rows, archived);
    };
    const rows =
      filter.sessionId === undefined
        ? await page()
        : await this.sessionTiers(
            filter.sessionId,
            { interval, tz, groupBy, filter, from: fromText, to: toText },
            page,
          );
    const more = rows.length > limit;
    const kept = more ? rows.slice(0, limit) : rows;
    const last = kept[kept.length - 1];
    return {
      data: kept.map((r) => statsRow(r, groupBy)),
      next_cursor: more ? encodeCursor(kind, 'asc', [last.bucket, last.k1, last.k2]) : null,
    };
  }
}

/** The hot tier's groups and the archive's, each once. */
function withArchivedGroups(groups: [string, string][], archived: StatsRow[]): [string, string][] {
  const all = new Map(groups.map((g) => [`${g[0]}\0${g[1]}`, g]));
  for (const r of archived) all.set(`${r.k1}\0${r.k2}`, [r.k1, r.k2]);
  return [...all.values()];
}

/** The page's rows with the archive's counts of the same (bucket, group) added. */
function addArchived(rows: StatsRow[], archived: StatsRow[]): StatsRow[] {
  if (archived.length === 0) return rows;
  const counts = new Map(archived.map((r) => [`${r.bucket}\0${r.k1}\0${r.k2}`, Number(r.count)]));
  return rows.map((r) => {
    const more = counts.get(`${r.bucket}\0${r.k1}\0${r.k2}`);
    return more === undefined ? r : { ...r, count: String(Number(r.count) + more) };
  });
}

function statsRow(r: StatsRow, groupBy: GroupBy | undefined): StatsRowDto {
  const count = Number(r.count);
  switch (groupBy) {
    case undefined:
      return { bucket: r.bucket, count };
    case 'category':
      return { bucket: r.bucket, category: r.k1, count };
    case 'name':
      return { bucket: r.bucket, category: r.k1, name: r.k2, count };
    case 'client_id':
      return { bucket: r.bucket, client_id: r.k1, count };
  }
}

/** Whole-hour offset from UTC over the range (so UTC hours are also local hours). */
function wholeHours(tz: string, from: number, to: number): boolean {
  return [from, to].every((us) => offsetMs(tz, Math.floor(us / 1000)) % 3_600_000 === 0);
}

function utcDays(tz: string, from: number, to: number): boolean {
  return tz === 'UTC' || [from, to].every((us) => offsetMs(tz, Math.floor(us / 1000)) === 0);
}

/** The coarsest counts table whose buckets fall on the requested buckets' edges. */
function countSource(
  interval: Interval,
  tz: string,
  from: number,
  to: number,
  sessionId?: string,
): StatsSource {
  if (sessionId !== undefined) return 'session';
  if (interval === 'minute') return 'event_counts';
  if (interval !== 'hour' && utcDays(tz, from, to)) return 'event_counts_daily';
  return wholeHours(tz, from, to) ? 'event_counts_hourly' : 'event_counts';
}

/** Where to list the groups of a range: a coarse table (a few rows per day), or the session. */
function groupSource(from: number, to: number, sessionId?: string): StatsSource {
  if (sessionId !== undefined) return 'session';
  if (to - from > 2 * DAY_US) return 'event_counts_daily';
  if (to - from > 2 * HOUR_US) return 'event_counts_hourly';
  return 'event_counts';
}
