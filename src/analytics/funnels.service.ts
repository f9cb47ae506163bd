import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { type ArchiveDay, ArchiveCatalogRepository } from '../archive/archive-catalog.repository';
import { utcDay } from '../archive/archive-layout';
import { ArchiveQueryTimeout, ArchiveReader, type FunnelHotRow } from '../archive/archive-reader.repository';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ANALYTICS_POOL, QUERY_CANCELED, analyticsQueryError } from './analytics-pool';
import { type FunnelRequestDto, type FunnelResponseDto, WITHIN_RE } from './funnels.dto';
import { type FunnelQuery, FunnelsRepository } from './funnels.repository';
import { HeavyReads } from './heavy-reads';
import { timeRange } from './time-range';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_WITHIN_MS = 30 * 86_400_000;

@Injectable()
export class FunnelsService {
  constructor(
    private readonly repo: FunnelsRepository,
    private readonly heavy: HeavyReads,
    @Inject(ANALYTICS_POOL) private readonly pool: Pool,
    private readonly catalog: ArchiveCatalogRepository,
    private readonly reader: ArchiveReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** `clientId`: the analyst asking, whose concurrent heavy reads are capped (HeavyReads). */
  async funnel(body: FunnelRequestDto, clientId: string): Promise<FunnelResponseDto> {
    const m = WITHIN_RE.exec(body.within);
    const withinMs = m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
    if (!(withinMs <= MAX_WITHIN_MS)) {
      throw ApiError.validation([{ path: '/within', message: 'within must be at most 30d' }]);
    }
    const range = timeRange(body);
    const counts = await this.heavy.run(clientId, () =>
      this.sessionsPerStep({
        steps: body.steps,
        withinMs,
        from: range.from!,
        to: range.to!,
        clientId: body.client_id,
      }),
    );
    return {
      steps: body.steps.map((s, i) => ({ category: s.category, name: s.name, sessions: counts[i] })),
    };
  }

  /**
   * The funnel over both tiers, exactly. In one snapshot (ArchiveCatalogRepository.snapshotWithDays:
   * its LOCK comes before any query, so the order of the two reads inside does not matter): the
   * registered files of [from, to + within]; none (the common case) → the PostgreSQL statement,
   * as before; some → the hot tier's rows of the steps' types, which DuckDB counts together with
   * the files (a session's steps may lie in both tiers). FUNNEL_TIMEOUT bounds the whole: the
   * snapshot's statements (statement_timeout) and then DuckDB (interrupted when it runs out).
   */
  private async sessionsPerStep(q: FunnelQuery): Promise<number[]> {
    const limit = this.config.funnelTimeoutMs;
    const deadline = Date.now() + limit;
    const lastDay = utcDay(new Date(Date.parse(q.to) + q.withinMs));
    let read: { counts: number[] } | { days: ArchiveDay[]; hot: FunnelHotRow[] };
    try {
      read = await this.catalog.snapshotWithDays(this.pool, utcDay(q.from), lastDay, async (db, days) => {
        if (days.length === 0) return { counts: await this.repo.sessionsPerStepIn(db, q, limit) };
        return { days, hot: await this.repo.stepRows(db, q, limit) };
      });
    } catch (err) {
      throw analyticsQueryError(err, limit, 'FUNNEL_TIMEOUT');
    }
    if ('counts' in read) return read.counts;
    try {
      return await this.reader.sessionsPerStep(read.days, q, read.hot, Math.max(1, deadline - Date.now()));
    } catch (err) {
      if (err instanceof ArchiveQueryTimeout)
        throw analyticsQueryError({ code: QUERY_CANCELED }, limit, 'FUNNEL_TIMEOUT');
      throw err;
    }
  }
}
