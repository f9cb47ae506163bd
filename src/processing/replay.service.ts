import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { AuditService } from '../audit/audit.service';
import { ApiError } from '../common/api-error';
import { PG_POOL } from '../prisma/pg-pool';
import type { QueuedEvent } from '../queue/queue.contract';
import { ProcessingService } from './processing.service';
import type { ReplayFilterDto, ReplayResultDto } from './replay.dto';

const MAX_REPLAY = 10_000;
/** Quarantined events read, checked and stored per transaction. */
const REPLAY_CHUNK = 500;

/**
 * Re-checks quarantined events against the schemas in force now and stores those that pass,
 * through the same idempotent insert as the worker (no duplicates; stored ones leave the
 * quarantine in the same transaction). Those still invalid get their reasons refreshed.
 */
@Injectable()
export class ReplayService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly processing: ProcessingService,
    private readonly audit: AuditService,
  ) {}

  async replay(filter: ReplayFilterDto, actorClientId: string): Promise<ReplayResultDto> {
    if (filter.from && filter.to && Date.parse(filter.from) > Date.parse(filter.to)) {
      throw ApiError.validation([{ path: '/from', message: 'must not be after to' }]);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.category !== undefined) add('category = ?', filter.category);
    if (filter.name !== undefined) add('name = ?', filter.name);
    if (filter.reason !== undefined) add('? = ANY(reasons)', filter.reason);
    if (filter.from !== undefined) add('rejected_at >= ?::timestamptz', filter.from);
    if (filter.to !== undefined) add('rejected_at <= ?::timestamptz', filter.to);
    if (filter.ids !== undefined) add('event_id = ANY(?::uuid[])', filter.ids);
    const outcome = { matched: 0, stored: 0, still_rejected: 0, more: false };
    // Chunk by chunk along (rejected_at, seq) (rejected_time_idx): memory and each transaction stay
    // bounded however much matches, and rows left in the quarantine are never read twice.
    let after: { rejected_at: string; seq: string } | undefined;
    while (outcome.matched < MAX_REPLAY) {
      const take = Math.min(REPLAY_CHUNK, MAX_REPLAY - outcome.matched);
      const chunkParams = after ? [...params, after.rejected_at, after.seq] : params;
      const chunkWhere = after
        ? [
            ...where,
            `(rejected_at, seq) > ($${params.length + 1}::timestamptz, $${params.length + 2}::bigint)`,
          ]
        : where;
      const rows = await this.pool.query<{ raw: string; rejected_at: string; seq: string }>(
        `SELECT raw, rejected_at::text AS rejected_at, seq::text AS seq FROM rejected_events
          ${chunkWhere.length ? `WHERE ${chunkWhere.join(' AND ')}` : ''}
          ORDER BY rejected_at, seq LIMIT ${take}`,
        chunkParams,
      );
      if (rows.rows.length === 0) break;
      after = rows.rows[rows.rows.length - 1];
      const chunk = await this.replayChunk(rows.rows.map((r) => JSON.parse(r.raw) as QueuedEvent));
      outcome.matched += rows.rows.length;
      outcome.stored += chunk.stored;
      outcome.still_rejected += chunk.stillRejected;
      if (rows.rows.length < take) break;
    }
    if (outcome.matched >= MAX_REPLAY && after) {
      const next = await this.pool.query(
        `SELECT 1 FROM rejected_events WHERE ${[...where, `(rejected_at, seq) > ($${params.length + 1}::timestamptz, $${params.length + 2}::bigint)`].join(' AND ')} LIMIT 1`,
        [...params, after.rejected_at, after.seq],
      );
      outcome.more = next.rows.length > 0;
    }
    await this.audit.record({
      actorClientId,
      action: 'quarantine.replayed',
      target: 'rejected-events',
      details: { filter: { ...filter }, ...outcome },
    });
    return outcome;
  }

  /** One chunk: store what now passes (leaving the quarantine), refresh the reasons of the rest. */
  private async replayChunk(events: QueuedEvent[]): Promise<{ stored: number; stillRejected: number }> {
    const { valid, rejected } = this.processing.classify(events);
    const result = await this.processing.storeWithRetry(valid, []);
    if (rejected.length) {
      await this.pool.query(
        `UPDATE rejected_events r SET reasons = ARRAY(SELECT jsonb_array_elements_text(t.reasons)), errors = t.errors
           FROM json_to_recordset($1::json) AS t(id uuid, reasons jsonb, errors jsonb) WHERE r.event_id = t.id`,
        [
          JSON.stringify(
            rejected.map((q) => ({
              id: q.event.id,
              reasons: [...new Set(q.errors.map((e) => e.reason))],
              errors: q.errors,
            })),
          ),
        ],
      );
    }
    // A valid event whose id is already stored (stored meanwhile) is a duplicate: drop its quarantine copy.
    if (valid.length) {
      await this.pool.query('DELETE FROM rejected_events WHERE event_id = ANY($1::uuid[])', [
        valid.map((e) => e.id),
      ]);
    }
    return { stored: result.inserted, stillRejected: rejected.length };
  }
}
