// Funnels in one statement, set-based so the work is a few index range scans, not one lookup per
// session. Step 1: each session's first event of the type within [from, to]. Step k: each session
// that reached step k-1 joined to the events of step k's type that follow it, within `within` of
// step 1; the earliest such event is the session's step k. Every step reads
// events_type_time_idx, whose INCLUDE (session_id, client_id) makes the scan index-only and bounded
// by time: [from, to + within]. When the sessions left are few and the type is common, the planner
// may instead probe events_session_time_idx per session (a nested loop); both give the same counts.
//
// The planner cannot estimate how many sessions reach a step (a CTE's GROUP BY: it assumes 200), so
// it sorts thousands of joined rows by session_id to group them; the statement runs in its own
// transaction with sorting disabled so that each step groups by hashing (a quarter of the
// statement's CPU on one day of the commonest types), with memory to keep larger ranges in memory.
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { FunnelHotRow } from '../archive/archive-reader.repository';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Sql } from '../prisma/sql';
import { ANALYTICS_POOL, analyticsQueryError } from './analytics-pool';

/** Planner settings of the funnel statement's transaction (scripts/explain.ts applies them too). */
export const FUNNEL_SETTINGS: Record<string, string> = { enable_sort: 'off', work_mem: '32MB' };

export interface FunnelQuery {
  steps: { category: string; name: string }[];
  withinMs: number;
  from: string;
  to: string;
  clientId?: string;
}

@Injectable()
export class FunnelsRepository {
  constructor(
    @Inject(ANALYTICS_POOL) private readonly pool: Pool,
    @Optional() @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {}

  /** The funnel statement: one row of counts c1..cN. */
  private statement(q: FunnelQuery): { text: string; params: unknown[] } {
    const sql = new Sql();
    const p = (v: unknown): string => sql.param(v);
    const client = q.clientId === undefined ? '' : ` AND e.client_id = ${p(q.clientId)}`;
    const within = `${p(q.withinMs * 1000)}::bigint * interval '1 microsecond'`;
    const from = `${p(q.from)}::timestamptz`;
    const to = `${p(q.to)}::timestamptz`;
    const type = (k: number): string =>
      `e.category = ${p(q.steps[k].category)} AND e.name = ${p(q.steps[k].name)}${client}`;
    const ctes = [
      `s1 AS (SELECT e.session_id, min(e.timestamp) AS t1, min(e.timestamp) AS tp FROM events e
        WHERE ${type(0)} AND e.timestamp >= ${from} AND e.timestamp <= ${to}
        GROUP BY e.session_id)`,
    ];
    for (let k = 2; k <= q.steps.length; k++) {
      // The bounds on e.timestamp alone repeat what the join implies (after step 1, at most
      // `within` after `to`) so that the type index scan is a bounded range.
      ctes.push(`s${k} AS (SELECT s.session_id, min(s.t1) AS t1, min(e.timestamp) AS tp
        FROM s${k - 1} s JOIN events e ON e.session_id = s.session_id
          AND e.timestamp > s.tp AND e.timestamp <= s.t1 + ${within}
        WHERE ${type(k - 1)} AND e.timestamp > ${from} AND e.timestamp <= ${to} + ${within}
        GROUP BY s.session_id)`);
    }
    const counts = q.steps.map((_s, i) => `(SELECT count(*) FROM s${i + 1})::text AS c${i + 1}`);
    return { text: `WITH ${ctes.join(',\n')}\nSELECT ${counts.join(', ')}`, params: sql.params };
  }

  /**
   * The funnel statement in the caller's transaction `db` (a tiered read's snapshot), with the
   * funnel's planner settings and `timeoutMs` as its statement_timeout.
   */
  async sessionsPerStepIn(db: PoolClient, q: FunnelQuery, timeoutMs: number): Promise<number[]> {
    await this.setLocal(db, timeoutMs);
    const { text, params } = this.statement(q);
    const row = (await db.query<Record<string, string>>(text, params)).rows[0] ?? {};
    return q.steps.map((_s, i) => Number(row[`c${i + 1}`]));
  }

  /**
   * The hot tier's events of the steps' types in [from, to + within] (of the client), for the
   * archive's funnel over both tiers (ArchiveReader.sessionsPerStep): events_type_time_idx, one
   * range per type, index-only. Microseconds as an exact bigint (extract gives a numeric).
   */
  async stepRows(db: PoolClient, q: FunnelQuery, timeoutMs: number): Promise<FunnelHotRow[]> {
    await this.setLocal(db, timeoutMs);
    const sql = new Sql();
    const types = [...new Map(q.steps.map((s) => [`${s.category}\0${s.name}`, s])).values()];
    const isStep = types.map(
      (s) => `(e.category = ${sql.param(s.category)} AND e.name = ${sql.param(s.name)})`,
    );
    const client = q.clientId === undefined ? '' : ` AND e.client_id = ${sql.param(q.clientId)}`;
    const text = `SELECT e.session_id, e.category, e.name, e.client_id,
        (extract(epoch FROM e.timestamp) * 1000000)::bigint::text AS ts_us
      FROM events e
      WHERE (${isStep.join(' OR ')})${client} AND e.timestamp >= ${sql.param(q.from)}::timestamptz
        AND e.timestamp <= ${sql.param(q.to)}::timestamptz + ${sql.param(q.withinMs * 1000)}::bigint * interval '1 microsecond'`;
    return (await db.query<FunnelHotRow>(text, sql.params)).rows;
  }

  private async setLocal(db: PoolClient, timeoutMs: number): Promise<void> {
    const settings = { ...FUNNEL_SETTINGS, statement_timeout: String(Math.max(1, Math.round(timeoutMs))) };
    await db.query(
      Object.entries(settings)
        .map(([k, v]) => `SET LOCAL ${k} = '${v}'`)
        .join('; '),
    );
  }

  /** Sessions that reached each step, in step order, over the hot tier alone (its own transaction). */
  async sessionsPerStep(q: FunnelQuery): Promise<number[]> {
    const { text, params } = this.statement(q);
    const db = await this.pool.connect().catch((err: unknown) => {
      throw analyticsQueryError(err, this.config?.analyticsStatementTimeoutMs ?? 0);
    });
    try {
      const settings = Object.entries(FUNNEL_SETTINGS).map(([k, v]) => `SET LOCAL ${k} = '${v}'`);
      await db.query(`BEGIN READ ONLY; ${settings.join('; ')}`);
      const row = (await db.query<Record<string, string>>(text, params)).rows[0] ?? {};
      await db.query('COMMIT');
      db.release();
      return q.steps.map((_s, i) => Number(row[`c${i + 1}`]));
    } catch (err) {
      // A connection that cannot even roll back is discarded, not returned to the pool.
      const rolledBack = await db.query('ROLLBACK').then(
        () => true,
        () => false,
      );
      db.release(!rolledBack);
      throw analyticsQueryError(err, this.config?.analyticsStatementTimeoutMs ?? 0);
    }
  }
}
