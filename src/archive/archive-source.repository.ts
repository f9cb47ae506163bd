// Reads a day's events out of PostgreSQL for the archive writer: one COPY … TO STDOUT (CSV) on a
// connection of the shared pool, streamed to a file, so memory holds a socket buffer however large
// the day. Timestamps leave as integer epoch microseconds: the archive keeps microseconds. `extract(epoch …)` is numeric (exact)
// since PostgreSQL 14. No ORDER BY: DuckDB sorts the day when it writes the file. The range is one
// UTC day of `timestamp`, read through events_time_idx (timestamp, seq).
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PG_POOL } from '../prisma/pg-pool';
import { checkDay } from './archive-layout';

/** Columns in the order of ArchiveFilesRepository's CSV columns (STAGE_COLUMNS). */
const DAY_EVENTS_SQL = `SELECT e.id::text AS id, e.seq::text AS seq, e.session_id, e.category, e.name,
    e.data::text AS data,
    (extract(epoch FROM e.timestamp) * 1000000)::bigint::text AS ts_us,
    (extract(epoch FROM e.received_at) * 1000000)::bigint::text AS received_us,
    e.client_id
  FROM events e
  WHERE e.timestamp >= $1::date::timestamp AT TIME ZONE 'UTC'
    AND e.timestamp < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'`;

/** DAY_EVENTS_SQL for one checked day, inlined: COPY takes no parameters. */
const dayEventsSql = (day: string): string => DAY_EVENTS_SQL.replace(/\$1/g, `'${checkDay(day)}'`);

@Injectable()
export class ArchiveSourceRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Writes the events of UTC day `day` to `path` as CSV (PostgreSQL's COPY, one statement: one
   * snapshot) and returns how many. The rows never become JavaScript values: the process only
   * moves bytes from the socket to the file, so an archive pass of millions of events leaves the
   * event loop (and the API's latency) nearly alone.
   */
  async copyDayCsv(day: string, path: string): Promise<number> {
    const client = await this.pool.connect();
    let ok = false;
    try {
      const copy = client.query(copyTo(`COPY (${dayEventsSql(day)}) TO STDOUT WITH (FORMAT csv)`));
      await pipeline(copy, createWriteStream(path));
      ok = true;
      return copy.rowCount ?? 0;
    } finally {
      client.release(!ok);
    }
  }
}
