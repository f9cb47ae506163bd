// Funnels in one statement. Step 1: each session's first event of the type within [from, to]
// (events_type_time_idx range scan). Each next step: per session that reached the previous step,
// its first event of that type after the previous step and within `within` of step 1 — a LATERAL
// lookup on events_session_time_idx (session_id, timestamp, seq) that stops at the first match
// (ordered by that index's columns, so the planner never walks the type index instead).
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Sql } from '../prisma/sql';
import { ANALYTICS_POOL, analyticsQueryError } from './analytics-pool';

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

  /** Sessions that reached each step, in step order. */
  async sessionsPerStep(q: FunnelQuery): Promise<number[]> {
    const sql = new Sql();
    const p = (v: unknown): string => sql.param(v);
    const client = q.clientId === undefined ? '' : ` AND e.client_id = ${p(q.clientId)}`;
    const within = `${p(q.withinMs * 1000)}::bigint * interval '1 microsecond'`;
    const ctes = [
      `s1 AS (SELECT e.session_id, min(e.timestamp) AS t1, min(e.timestamp) AS tp FROM events e
        WHERE e.category = ${p(q.steps[0].category)} AND e.name = ${p(q.steps[0].name)}
          AND e.timestamp >= ${p(q.from)}::timestamptz AND e.timestamp <= ${p(q.to)}::timestamptz${client}
        GROUP BY e.session_id)`,
    ];
    for (let k = 2; k <= q.steps.length; k++) {
      const step = q.steps[k - 1];
      ctes.push(`s${k} AS (SELECT s.session_id, s.t1, x.t AS tp FROM s${k - 1} s CROSS JOIN LATERAL (
        SELECT e.timestamp AS t FROM events e
        WHERE e.session_id = s.session_id AND e.timestamp > s.tp AND e.timestamp <= s.t1 + ${within}
          AND e.category = ${p(step.category)} AND e.name = ${p(step.name)}${client}
        ORDER BY e.session_id, e.timestamp, e.seq LIMIT 1) x)`);
    }
    const counts = q.steps.map((_s, i) => `(SELECT count(*) FROM s${i + 1})::text AS c${i + 1}`);
    const text = `WITH ${ctes.join(',\n')}\nSELECT ${counts.join(', ')}`;
    try {
      const row = (await this.pool.query<Record<string, string>>(text, sql.params)).rows[0] ?? {};
      return q.steps.map((_s, i) => Number(row[`c${i + 1}`]));
    } catch (err) {
      throw analyticsQueryError(err, this.config?.analyticsStatementTimeoutMs ?? 0);
    }
  }
}
