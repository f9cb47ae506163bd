// The archive pass's PostgreSQL side: the lock that lets one pass run at a time, the transaction
// that moves a day (register the file + drop the partition), retention and the ledger's trim, and
// the hot tier's sizes for GET /v1/ops/storage.
import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { PG_POOL } from '../prisma/pg-pool';
import { checkDay } from './archive-layout';
import { ArchiveCatalogRepository, type ArchiveFileRow } from './archive-catalog.repository';
import { EventPartitionsRepository } from './event-partitions.repository';

/** Any constant: the advisory lock held by the one pass running (migrator.ts uses 7451001). */
const PASS_LOCK_KEY = 7_451_003;
/** A move waits this long for readers and writers of `events` before it gives up until the next pass. */
const MOVE_LOCK_TIMEOUT = '10s';
/** Rows deleted per statement by retention and the ledger's trim (short transactions, no long locks). */
const DELETE_BATCH = 50_000;

/** Where a move stands when `commitMove` calls its hook (tests kill the pass there). */
export type MoveStep = 'registered' | 'dropped';

export interface HotDayTotals {
  day: string;
  /** PostgreSQL's estimate (pg_class.reltuples, as of the last ANALYZE), counted when there is none yet. */
  events: number;
  bytes: number;
}

@Injectable()
export class ArchiveMaintenanceRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly catalog: ArchiveCatalogRepository,
    private readonly partitions: EventPartitionsRepository,
  ) {}

  /**
   * Runs `fn` holding the pass's session-level advisory lock on a connection of its own; null
   * (without running it) when another process holds it.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T | null> {
    const db = await this.pool.connect();
    let healthy = true;
    try {
      const got = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PASS_LOCK_KEY]);
      if (!got.rows[0].ok) return null;
      try {
        return await fn();
      } finally {
        await db.query('SELECT pg_advisory_unlock($1)', [PASS_LOCK_KEY]).catch(() => {
          healthy = false;
        });
      }
    } finally {
      db.release(!healthy);
    }
  }

  /**
   * The move's commit: with writers of the day's partition held off, if it still holds exactly
   * the `expected` events that were written to `file`, registers the file and drops the partition
   * in one transaction (true). Otherwise (events arrived while the file was written) changes
   * nothing (false): the caller deletes the file and the next pass writes the day again.
   */
  async commitMove(
    file: ArchiveFileRow,
    expected: number,
    hook: (step: MoveStep) => Promise<void>,
  ): Promise<boolean> {
    const part = `events_p${checkDay(file.day).replace(/-/g, '')}`;
    const db: PoolClient = await this.pool.connect();
    let ok = false;
    try {
      await db.query('BEGIN');
      await db.query(`SET LOCAL lock_timeout = '${MOVE_LOCK_TIMEOUT}'`);
      // SHARE: inserts into the day wait (ROW EXCLUSIVE conflicts), readers do not.
      await db.query(`LOCK TABLE ${part} IN SHARE MODE`);
      const count = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${part}`);
      if (Number(count.rows[0].n) !== expected) {
        await db.query('ROLLBACK');
        ok = true;
        return false;
      }
      if (file.events > 0) await this.catalog.register(db, file);
      await hook('registered');
      await this.partitions.drop(file.day, db);
      await hook('dropped');
      await db.query('COMMIT');
      ok = true;
      return true;
    } finally {
      if (!ok) await db.query('ROLLBACK').catch(() => undefined);
      db.release(!ok);
    }
  }

  /** Drops the partition of `day` with its events (retention); true when there was one. */
  async dropPartition(day: string): Promise<boolean> {
    const db = await this.pool.connect();
    let ok = false;
    try {
      await db.query('BEGIN');
      await db.query(`SET LOCAL lock_timeout = '${MOVE_LOCK_TIMEOUT}'`);
      const dropped = await this.partitions.drop(day, db);
      await db.query('COMMIT');
      ok = true;
      return dropped;
    } finally {
      if (!ok) await db.query('ROLLBACK').catch(() => undefined);
      db.release(!ok);
    }
  }

  /**
   * Deletes ledger keys first received before `before` (ISO time) whose event is no longer in a
   * partition (its timestamp is before UTC day `oldestHotDay`): those ids may be stored again, and
   * lookups by id of events still hot keep finding them through the ledger.
   */
  async trimLedger(before: string, oldestHotDay: string): Promise<number> {
    return this.deleteInBatches(
      `DELETE FROM event_ids WHERE ctid = ANY(ARRAY(SELECT ctid FROM event_ids
         WHERE received_at < $1::timestamptz AND timestamp < $2::date::timestamp AT TIME ZONE 'UTC'
         LIMIT ${DELETE_BATCH}))`,
      [before, checkDay(oldestHotDay)],
    );
  }

  /** Deletes the per-minute counts before UTC day `day` (the hourly and daily rollups stay). */
  async deleteMinuteCountsBefore(day: string): Promise<number> {
    return this.deleteInBatches(
      `DELETE FROM event_counts WHERE ctid = ANY(ARRAY(SELECT ctid FROM event_counts WHERE bucket < $1::date::timestamp AT TIME ZONE 'UTC' LIMIT ${DELETE_BATCH}))`,
      [checkDay(day)],
    );
  }

  /** Deletes quarantined events refused before `before` (ISO time). */
  async deleteRejectedBefore(before: string): Promise<number> {
    return this.deleteInBatches(
      `DELETE FROM rejected_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM rejected_events WHERE rejected_at < $1::timestamptz LIMIT ${DELETE_BATCH}))`,
      [before],
    );
  }

  private async deleteInBatches(sql: string, params: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const res = await this.pool.query(sql, params);
      total += res.rowCount ?? 0;
      if ((res.rowCount ?? 0) < DELETE_BATCH) return total;
    }
  }

  /**
   * Each hot day's partition: estimated events and bytes (heap, indexes, TOAST), days in order. A
   * partition never analysed is counted, or taken as empty when `countUnanalysed` is false (/metrics).
   */
  async hotTotals(countUnanalysed = true): Promise<HotDayTotals[]> {
    const res = await this.pool.query<{ relname: string; events: number; bytes: number }>(
      `SELECT c.relname, c.reltuples::float8 AS events, pg_total_relation_size(c.oid)::float8 AS bytes
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
    );
    const days: HotDayTotals[] = [];
    for (const r of res.rows) {
      const m = /^events_p(\d{4})(\d{2})(\d{2})$/.exec(r.relname);
      if (!m) continue;
      // Never analysed yet (a young partition): counted instead.
      const events =
        r.events >= 0 || !countUnanalysed
          ? r.events
          : Number(
              (await this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${r.relname}`)).rows[0]
                .n,
            );
      days.push({ day: `${m[1]}-${m[2]}-${m[3]}`, events, bytes: r.bytes });
    }
    return days;
  }
}
