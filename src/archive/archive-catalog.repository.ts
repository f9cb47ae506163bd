// The registry of the archive's files (`archive_files`) and the one way to read both tiers
// consistently. A reader takes, in one REPEATABLE READ snapshot, both the hot rows it wants from
// `events` and the list of registered files of the days it covers; the archive pass registers a
// day's file and drops its partition in one transaction. The snapshot therefore sees the day in
// exactly one tier. LOCK TABLE comes first on purpose: a REPEATABLE READ snapshot is taken by the
// first query, and a query that first waited for the pass's drop to commit would otherwise plan
// against the catalogue after the drop with a snapshot from before the registration (the day in
// neither tier). Holding ACCESS SHARE on `events` for the rest of the transaction also keeps the
// drop (ACCESS EXCLUSIVE) waiting until the reader is done.
import { join, relative, resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PG_POOL } from '../prisma/pg-pool';
import { checkDay } from './archive-layout';

/** days()'s statement, for snapshotWithDays (which inlines $1 and $2). */
const DAYS_SQL = `SELECT to_char(day, 'YYYY-MM-DD') AS day, array_agg(path ORDER BY path) AS paths FROM archive_files
  WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)
  GROUP BY day ORDER BY day`;

/** One registered file; `path` relative to ARCHIVE_DIR. */
export interface ArchiveFileRow {
  path: string;
  day: string;
  events: number;
  bytes: number;
}

/** The registered files of one UTC day, as absolute paths. */
export interface ArchiveDay {
  day: string;
  files: string[];
}

/** Per day: events and bytes of the archive tier. */
export interface ArchiveDayTotals {
  day: string;
  files: number;
  events: number;
  bytes: number;
}

@Injectable()
export class ArchiveCatalogRepository {
  private readonly root: string;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.root = resolve(config.archiveDir);
  }

  /** A registered path (relative) as an absolute path under ARCHIVE_DIR. */
  absolute(path: string): string {
    return join(this.root, path);
  }

  /** An absolute path under ARCHIVE_DIR as the registry's relative path. */
  relativePath(path: string): string {
    return relative(this.root, resolve(path));
  }

  /**
   * Runs `fn` in a REPEATABLE READ READ ONLY transaction on `pool` that sees each day in exactly
   * one tier (see the top of this file). `fn` gets the connection and the files of [fromDay,
   * toDay] (either open) registered in the same snapshot.
   */
  async snapshot<T>(
    pool: Pool,
    fromDay: string | undefined,
    toDay: string | undefined,
    fn: (db: PoolClient, archive: () => Promise<ArchiveDay[]>) => Promise<T>,
  ): Promise<T> {
    const db = await pool.connect();
    let ok = false;
    try {
      await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await db.query('LOCK TABLE events IN ACCESS SHARE MODE');
      const result = await fn(db, () => this.days(db, fromDay, toDay));
      await db.query('COMMIT');
      ok = true;
      return result;
    } finally {
      if (!ok) await db.query('ROLLBACK').catch(() => undefined);
      db.release(!ok);
    }
  }

  /**
   * snapshot() for a read that wants the file list first: BEGIN, LOCK and the list go to the
   * server as one simple query (the LOCK still precedes the query that takes the snapshot), so a
   * read whose range holds no file costs its hot query plus one round trip and COMMIT — about
   * what the hot query alone cost before the archive (event-tiers.service.ts measures it).
   * The days are checked and inlined: a simple query takes no parameters.
   */
  async snapshotWithDays<T>(
    pool: Pool,
    fromDay: string | undefined,
    toDay: string | undefined,
    fn: (db: PoolClient, days: ArchiveDay[]) => Promise<T>,
  ): Promise<T> {
    const bound = (day: string | undefined): string => (day === undefined ? 'NULL' : `'${checkDay(day)}'`);
    const db = await pool.connect();
    let ok = false;
    try {
      const results = (await db.query(
        `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; LOCK TABLE events IN ACCESS SHARE MODE;
         ${DAYS_SQL.split('$1').join(bound(fromDay)).split('$2').join(bound(toDay))}`,
      )) as unknown as QueryResult<{ day: string; paths: string[] }>[];
      const days = results[results.length - 1].rows.map((r) => ({
        day: r.day,
        files: r.paths.map((p) => this.absolute(p)),
      }));
      const result = await fn(db, days);
      await db.query('COMMIT');
      ok = true;
      return result;
    } finally {
      if (!ok) await db.query('ROLLBACK').catch(() => undefined);
      db.release(!ok);
    }
  }

  /** The registered files of the days in [fromDay, toDay], days in order, paths absolute. */
  async days(db: Pool | PoolClient, fromDay?: string, toDay?: string): Promise<ArchiveDay[]> {
    const res = await db.query<{ day: string; paths: string[] }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, array_agg(path ORDER BY path) AS paths FROM archive_files
        WHERE ($1::date IS NULL OR day >= $1::date) AND ($2::date IS NULL OR day <= $2::date)
        GROUP BY day ORDER BY day`,
      [fromDay ?? null, toDay ?? null],
    );
    return res.rows.map((r) => ({ day: r.day, files: r.paths.map((p) => this.absolute(p)) }));
  }

  /** Registers a file (in the caller's transaction: the one that drops the day's partition). */
  async register(db: PoolClient, file: ArchiveFileRow): Promise<void> {
    await db.query('INSERT INTO archive_files (path, day, events, bytes) VALUES ($1, $2::date, $3, $4)', [
      file.path,
      file.day,
      file.events,
      file.bytes,
    ]);
  }

  /** The registered files of one day (relative paths). */
  async filesOf(day: string): Promise<string[]> {
    const res = await this.pool.query<{ path: string }>(
      'SELECT path FROM archive_files WHERE day = $1::date',
      [day],
    );
    return res.rows.map((r) => r.path);
  }

  /** Every registered path (relative). */
  async paths(): Promise<Set<string>> {
    const res = await this.pool.query<{ path: string }>('SELECT path FROM archive_files');
    return new Set(res.rows.map((r) => r.path));
  }

  /** Unregisters the files of the days before `day`; returns them (the caller deletes them after). */
  async unregisterBefore(day: string): Promise<ArchiveFileRow[]> {
    const res = await this.pool.query<ArchiveFileRow>(
      `DELETE FROM archive_files WHERE day < $1::date
        RETURNING path, to_char(day, 'YYYY-MM-DD') AS day, events::float8 AS events, bytes::float8 AS bytes`,
      [day],
    );
    return res.rows;
  }

  /** Files, events and bytes per archived day, days in order. */
  async totals(): Promise<ArchiveDayTotals[]> {
    const res = await this.pool.query<ArchiveDayTotals>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, count(*)::int AS files, sum(events)::float8 AS events,
              sum(bytes)::float8 AS bytes
         FROM archive_files GROUP BY day ORDER BY day`,
    );
    return res.rows;
  }
}
