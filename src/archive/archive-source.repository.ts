// Reads a day's events out of PostgreSQL for the archive writer: one server-side cursor
// (pg-query-stream) over the shared pool, so memory holds one batch however large the day.
// Timestamps leave as integer epoch microseconds (text): pg would parse timestamptz into a
// millisecond Date, and the archive keeps microseconds. `extract(epoch …)` is numeric (exact)
// since PostgreSQL 14. No ORDER BY: DuckDB sorts the day when it writes the file. The range is one
// UTC day of `timestamp`, read through events_time_idx (timestamp, seq).
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import QueryStream from 'pg-query-stream';
import { PG_POOL } from '../prisma/pg-pool';
import { checkDay } from './archive-layout';

/** One event as the archive stores it; integers as decimal text. */
export interface ArchiveSourceRow {
  id: string;
  seq: string;
  session_id: string;
  category: string;
  name: string;
  /** The stored jsonb, as text. */
  data: string;
  /** Epoch microseconds. */
  ts_us: string;
  received_us: string;
  client_id: string;
}

const DAY_EVENTS_SQL = `SELECT e.id::text AS id, e.seq::text AS seq, e.session_id, e.category, e.name,
    e.data::text AS data,
    (extract(epoch FROM e.timestamp) * 1000000)::bigint::text AS ts_us,
    (extract(epoch FROM e.received_at) * 1000000)::bigint::text AS received_us,
    e.client_id
  FROM events e
  WHERE e.timestamp >= $1::date::timestamp AT TIME ZONE 'UTC'
    AND e.timestamp < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'`;

@Injectable()
export class ArchiveSourceRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** The events whose `timestamp` falls on UTC day `day` (YYYY-MM-DD), in batches of `batchRows`. */
  async *dayEvents(day: string, batchRows = 2048): AsyncGenerator<ArchiveSourceRow[]> {
    checkDay(day);
    const client = await this.pool.connect();
    let finished = false;
    try {
      // A snapshot of the day: REPEATABLE READ, so rows committed while the cursor runs are not half-seen.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const stream = client.query(new QueryStream(DAY_EVENTS_SQL, [day], { batchSize: batchRows }));
      let batch: ArchiveSourceRow[] = [];
      for await (const row of stream as AsyncIterable<ArchiveSourceRow>) {
        batch.push(row);
        if (batch.length === batchRows) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
      await client.query('COMMIT');
      finished = true;
    } finally {
      // A failed or abandoned walk leaves the connection mid-cursor, mid-transaction: discard it.
      client.release(!finished);
    }
  }
}
