// The audit trail's SQL. The table is append-only (a trigger refuses UPDATE/DELETE/TRUNCATE), so
// this file only inserts and reads. Listing is a keyset scan on (at, id): audit_events_action_time_idx
// with `action`, else audit_events_time_idx.
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { sqlTimestamp } from '../prisma/sql';
import { PG_POOL } from '../prisma/pg-pool';

export interface AuditRow {
  id: string;
  at: string;
  actor_client_id: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  /** RFC 3339 µs texts, both inclusive. */
  from?: string;
  to?: string;
}

export interface AuditInsert {
  actorClientId: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

@Injectable()
export class AuditRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async insert(entry: AuditInsert): Promise<void> {
    await this.pool.query(
      'INSERT INTO audit_events (actor_client_id, action, target, details) VALUES ($1, $2, $3, $4::jsonb)',
      [entry.actorClientId, entry.action, entry.target, JSON.stringify(entry.details)],
    );
  }

  async list(
    filter: AuditFilter,
    order: 'asc' | 'desc',
    after: [string, string] | null,
    take: number,
  ): Promise<AuditRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const p = (value: unknown): string => `$${params.push(value)}`;
    if (filter.action !== undefined) where.push(`action = ${p(filter.action)}`);
    if (filter.from !== undefined) where.push(`at >= ${p(filter.from)}::timestamptz`);
    if (filter.to !== undefined) where.push(`at <= ${p(filter.to)}::timestamptz`);
    const dir = order === 'asc' ? { sql: 'ASC', after: '>' } : { sql: 'DESC', after: '<' };
    if (after) where.push(`(at, id) ${dir.after} (${p(after[0])}::timestamptz, ${p(after[1])}::bigint)`);
    const res = await this.pool.query<AuditRow>(
      `SELECT id::text AS id, ${sqlTimestamp('at')} AS at, actor_client_id, action, target, details
         FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at ${dir.sql}, id ${dir.sql} LIMIT ${p(take)}`,
      params,
    );
    return res.rows;
  }
}
