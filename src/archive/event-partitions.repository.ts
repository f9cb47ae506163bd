// The hot tier's day partitions (migration 20261207220000_events_day_partitions): `events` holds
// one partition per UTC day of `timestamp`, named events_pYYYYMMDD, with no DEFAULT partition.
// Partitions are made ahead (today and the next days, by the archive pass and at the worker's
// start) and on demand (an insert for a day without one: a late, backfilled or replayed event).
// The application's role owns no table, so it creates and drops them through the two SECURITY
// DEFINER functions of that migration.
import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '../prisma/pg-pool';
import { inTransaction } from '../prisma/transaction';
import { checkDay } from './archive-layout';

/** SQLSTATE of an insert whose row has no partition (check_violation, "no partition of relation … found for row"). */
const CHECK_VIOLATION = '23514';
/** SQLSTATE of CREATE TABLE of a name that exists. */
const DUPLICATE_TABLE = '42P07';
/** How long making a partition waits for the readers and writers of `events` in progress. */
const CREATE_LOCK_TIMEOUT = '3s';

/** Whether `err` is PostgreSQL refusing a row of `events` because its day has no partition. */
export function isMissingPartition(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === CHECK_VIOLATION && /no partition of relation/.test(e.message ?? '');
}

/** The UTC days (YYYY-MM-DD) of these RFC 3339 timestamps, each once. */
export function daysOf(timestamps: Iterable<string>): string[] {
  const days = new Set<string>();
  for (const t of timestamps) days.add(new Date(t).toISOString().slice(0, 10));
  return [...days].sort();
}

@Injectable()
export class EventPartitionsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Makes the partitions of these UTC days that do not exist yet; returns the days it made. Making
   * one locks `events` against every reader and writer for a moment, so it waits at most
   * CREATE_LOCK_TIMEOUT for readers in progress (a long funnel or export) rather than hold every
   * insert behind them: past that it fails, and the job (or the pass) tries again later.
   */
  async ensure(days: string[]): Promise<string[]> {
    const made: string[] = [];
    for (const day of days) {
      try {
        const created = await inTransaction(this.pool, async (db) => {
          await db.query(`SET LOCAL lock_timeout = '${CREATE_LOCK_TIMEOUT}'`);
          const res = await db.query<{ made: boolean }>(
            'SELECT the_eye_create_event_partition($1::date) AS made',
            [checkDay(day)],
          );
          return res.rows[0]?.made === true;
        });
        if (created) made.push(day);
      } catch (err) {
        // Another process made it between the function's check and its CREATE (the check can read a
        // catalogue from before the other's commit): the partition exists, which is all we need.
        if ((err as { code?: string }).code !== DUPLICATE_TABLE) throw err;
      }
    }
    return made;
  }

  /** The days that have a partition, in order. */
  async days(db: Pool | PoolClient = this.pool): Promise<string[]> {
    const res = await db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
    );
    return res.rows
      .map((r) => /^events_p(\d{4})(\d{2})(\d{2})$/.exec(r.relname))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]}-${m[2]}-${m[3]}`);
  }

  /** Drops the partition of `day` (in the caller's transaction); true when there was one. */
  async drop(day: string, db: PoolClient): Promise<boolean> {
    const res = await db.query<{ dropped: boolean }>(
      'SELECT the_eye_drop_event_partition($1::date) AS dropped',
      [checkDay(day)],
    );
    return res.rows[0]?.dropped ?? false;
  }
}
