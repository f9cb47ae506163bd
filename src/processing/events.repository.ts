import { Inject, Injectable } from '@nestjs/common';
import type { Pool, QueryConfig } from 'pg';
import type { EventViewRow } from '../common/event-view';
import { PG_POOL } from '../prisma/pg-pool';
import { EVENT_VIEW_COLUMNS, Sql } from '../prisma/sql';
import type { QueuedEvent } from '../queue/queue.contract';
import {
  daysOf,
  EventPartitionsRepository,
  isMissingPartition,
} from '../archive/event-partitions.repository';
import type { RejectError } from './event-checks';

export interface Quarantined {
  event: QueuedEvent;
  errors: RejectError[];
}

export interface StoreResult {
  inserted: number;
  quarantined: number;
}

/** A quarantined event as GET /v1/events/{id} serves it: its raw text, reasons and errors (JSON text). */
export interface QuarantineRow {
  raw: string;
  client_id: string;
  reasons: string[];
  errors: string;
}

/** One event of one client: ids belong to their client. */
export interface EventKey {
  id: string;
  client_id: string;
}

/** Which quarantined events a replay takes (all filters AND-ed). */
export interface QuarantineFilter {
  category?: string;
  name?: string;
  reason?: string;
  from?: string;
  to?: string;
  ids?: string[];
}

/** A replay's position in the quarantine: the (rejected_at, seq) of the last row read. */
export interface QuarantineKey {
  rejected_at: string;
  seq: string;
}

/*
 * The event hot path, in SQL on the shared pg pool. One statement for the valid events and one for
 * the quarantine, in one transaction for the jobs that are active together; the events travel as a
 * few JSON parameters (JsonChunker), expanded server-side by json_to_recordset (one parse, no
 * per-row round trips). Nested values are read as `json` and cast with ::jsonb: a `jsonb` column
 * in the record definition costs ~4× the whole parse (800 events: 20 ms → 5 ms of PostgreSQL CPU).
 *
 * - event_ids first: ON CONFLICT (id, client_id) DO NOTHING — the ledger is the idempotency key
 *   across both tiers (ids belong to their client; `events` is partitioned by day and keeps no key
 *   of its own: see migration 20261207223000_events_key_in_ledger_only). Only the keys new to the
 *   ledger go on to `events`, one row per key (a job may carry the same id twice: the first in
 *   arrival order wins); rows are fed in key order so that two workers racing on the same keys
 *   lock them in the same order. `seq`, the arrival order, comes with each row
 *   (arrival-order.ts); a row without one (replay of a row quarantined before it was kept) takes
 *   the column's sequence. A row for a day without a partition fails the statement: store()
 *   makes the partitions and runs it again.
 * - sessions and event_counts (per minute, type and client) are updated from the RETURNING rows of
 *   that insert only, so a
 *   retried job (worker killed after commit, before ack) adds nothing twice. Both are fed in
 *   key order (no deadlocks between concurrent workers).
 * - a stored event leaves the quarantine (replay, or a corrected resend with the same id).
 * Indexes used: event_ids_pkey, sessions_pkey, event_counts_pkey, rejected_events_pkey.
 */
/**
 * The per-minute counts of the rows an `inserted` CTE returned (session_id, category, name,
 * timestamp, client_id), added to event_counts; the rollup triggers carry them to the hourly and
 * daily tables. scripts/seed.ts uses it too, so a seeded database holds what the worker writes.
 */
export const COUNTS_UPSERT_CTE = `counts_upsert AS (
  INSERT INTO event_counts AS c (bucket, category, name, client_id, count)
  SELECT date_trunc('minute', timestamp), category, name, client_id, count(*) FROM inserted
   GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (bucket, category, name, client_id) DO UPDATE SET count = c.count + EXCLUDED.count
  RETURNING 1
)`;

const insertEventsSql = (params: number): string => `
WITH input AS (
  SELECT DISTINCT ON (id, client_id) id, coalesce(seq, nextval(pg_get_serial_sequence('events', 'seq'))) AS seq,
         session_id, category, name, data::jsonb AS data, timestamp, received_at, client_id
    FROM ${jsonDocs(params)}, json_to_recordset(doc.chunk) AS t(
      id uuid, seq bigint, session_id text, category text, name text, data json,
      timestamp timestamptz, received_at timestamptz, client_id text)
   ORDER BY id, client_id, seq
), fresh AS (
  INSERT INTO event_ids (id, client_id, timestamp, received_at)
  SELECT id, client_id, timestamp, received_at FROM input
  ON CONFLICT (id, client_id) DO NOTHING
  RETURNING id, client_id
), inserted AS (
  INSERT INTO events (id, seq, session_id, category, name, data, timestamp, received_at, client_id)
  SELECT i.id, i.seq, i.session_id, i.category, i.name, i.data, i.timestamp, i.received_at, i.client_id
    FROM input i JOIN fresh f ON f.id = i.id AND f.client_id = i.client_id
  RETURNING id, session_id, category, name, timestamp, client_id
), sessions_upsert AS (
  INSERT INTO sessions AS s (session_id, first_event_at, last_event_at, event_count, client_ids)
  SELECT session_id, min(timestamp), max(timestamp), count(*), array_agg(DISTINCT client_id)
    FROM inserted GROUP BY session_id ORDER BY session_id
  ON CONFLICT (session_id) DO UPDATE SET
    first_event_at = LEAST(s.first_event_at, EXCLUDED.first_event_at),
    last_event_at = GREATEST(s.last_event_at, EXCLUDED.last_event_at),
    event_count = s.event_count + EXCLUDED.event_count,
    client_ids = CASE WHEN EXCLUDED.client_ids <@ s.client_ids THEN s.client_ids
                      ELSE ARRAY(SELECT DISTINCT c FROM unnest(s.client_ids || EXCLUDED.client_ids) AS c ORDER BY c) END,
    updated_at = now()
  RETURNING 1
), ${COUNTS_UPSERT_CTE}, unquarantined AS (
  DELETE FROM rejected_events r USING inserted i WHERE r.event_id = i.id AND r.client_id = i.client_id RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted`;

/**
 * Quarantine: kept whole (raw JSON text), never over the same client's stored event with the same
 * id (as far as the deduplication ledger remembers it: DEDUPE_WINDOW_DAYS).
 */
const quarantineSql = (params: number): string => `
INSERT INTO rejected_events (event_id, event_seq, session_id, category, name, raw, timestamp, received_at, client_id, reasons, errors)
SELECT t.id, t.seq, t.session_id, t.category, t.name, t.raw, t.timestamp, t.received_at, t.client_id,
       ARRAY(SELECT json_array_elements_text(t.reasons)), t.errors::jsonb
  FROM ${jsonDocs(params)}, json_to_recordset(doc.chunk) AS t(
    id uuid, seq bigint, session_id text, category text, name text, raw text,
    timestamp timestamptz, received_at timestamptz, client_id text, reasons json, errors json)
 WHERE NOT EXISTS (SELECT 1 FROM event_ids e WHERE e.id = t.id AND e.client_id = t.client_id)
 ORDER BY t.id, t.client_id
ON CONFLICT (event_id, client_id) DO NOTHING`;

/**
 * Bytes per JSON parameter. A string over 128 KiB is a V8 large object: fresh pages on every
 * allocation, whose page faults cost ~4 ns per byte here (more than JSON.stringify itself), paid
 * again by each copy (flattening for Buffer.byteLength, the socket write). Chunks aim at half of
 * that, so a chunk of rows larger than the last chunk's average still stays under it.
 */
const CHUNK_TARGET_BYTES = 64 * 1024;
const MIN_ROWS_PER_CHUNK = 8;
const MAX_ROWS_PER_CHUNK = 1_000;

/** The FROM item that yields each JSON parameter as `doc.chunk`, in parameter order. */
const jsonDocs = (params: number): string =>
  `unnest(ARRAY[${Array.from({ length: params }, (_, i) => `$${i + 1}::json`).join(', ')}]) AS doc(chunk)`;

/**
 * Splits rows into JSON arrays of about CHUNK_TARGET_BYTES each, read back in order by one
 * statement. Rows are sized by bytes, not counted: a Segment event is nearly twice the size of a
 * native one, a quarantined one can be 1 MB. Each chunk's row count is the last chunk's bytes per row
 * into the target (one instance per repository, so the estimate follows the traffic).
 */
export class JsonChunker {
  private rowsPerChunk = 200;

  chunks(rows: readonly unknown[]): string[] {
    if (rows.length === 0) return ['[]'];
    const chunks: string[] = [];
    for (let i = 0; i < rows.length;) {
      // A rest of up to a quarter over the estimate stays in one chunk (the target leaves room):
      // 200 events estimated at 193 per chunk make one parameter, not 193 and 7.
      const rest = rows.length - i;
      const n = rest <= Math.floor(this.rowsPerChunk * 1.25) ? rest : this.rowsPerChunk;
      const json = JSON.stringify(n === rows.length ? rows : rows.slice(i, i + n));
      chunks.push(json);
      const fit = Math.floor((CHUNK_TARGET_BYTES * n) / json.length);
      this.rowsPerChunk = Math.min(MAX_ROWS_PER_CHUNK, Math.max(MIN_ROWS_PER_CHUNK, fit));
      i += n;
    }
    return chunks;
  }
}

/**
 * A named (prepared) statement per number of JSON parameters: PostgreSQL parses and plans it once
 * per connection instead of per transaction (measured: 1.15 → 0.65 ms of PostgreSQL CPU per small
 * transaction; the plan cannot depend on the values, json_to_recordset is always estimated alike).
 */
function prepared(
  name: string,
  build: (params: number) => string,
): (values: string[]) => QueryConfig<string[]> {
  const texts = new Map<number, string>();
  return (values) => {
    let text = texts.get(values.length);
    if (text === undefined) texts.set(values.length, (text = build(values.length)));
    return { name: `${name}-${values.length}`, text, values };
  };
}
const INSERT_EVENTS = prepared('the-eye-insert-events', insertEventsSql);
const QUARANTINE = prepared('the-eye-quarantine', quarantineSql);

/**
 * The `events` and `rejected_events` tables (and the sessions and counts the insert keeps): the
 * worker's writes, the status of one event, and the quarantine reads and updates of a replay.
 */
@Injectable()
export class EventsRepository {
  private readonly events = new JsonChunker();
  private readonly quarantine = new JsonChunker();

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly partitions: EventPartitionsRepository,
  ) {}

  /**
   * Stores valid events and quarantines the others, atomically. A single statement (the usual
   * case: nothing to quarantine) is its own transaction, without the two extra round trips of
   * BEGIN and COMMIT. Errors are thrown as pg raised them (the caller retries deadlocks).
   */
  async store(valid: QueuedEvent[], rejected: Quarantined[]): Promise<StoreResult> {
    try {
      return await this.storeOnce(valid, rejected);
    } catch (err) {
      if (!isMissingPartition(err)) throw err;
      // A day without a partition (late, backfilled or replayed events): make it, then store again.
      await this.partitions.ensure(daysOf(valid.map((e) => e.timestamp)));
      return this.storeOnce(valid, rejected);
    }
  }

  private async storeOnce(valid: QueuedEvent[], rejected: Quarantined[]): Promise<StoreResult> {
    const explicit = valid.length > 0 && rejected.length > 0;
    const client = await this.pool.connect();
    try {
      if (explicit) await client.query('BEGIN');
      let inserted = 0;
      if (valid.length) {
        const res = await client.query<{ inserted: number }>(INSERT_EVENTS(this.events.chunks(valid)));
        inserted = res.rows[0].inserted;
      }
      let quarantined = 0;
      if (rejected.length) {
        const res = await client.query(QUARANTINE(this.quarantine.chunks(rejected.map(quarantineRow))));
        quarantined = res.rowCount ?? 0;
      }
      if (explicit) await client.query('COMMIT');
      return { inserted, quarantined };
    } catch (err) {
      if (explicit) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * The hot tier's stored events with this id: one client's, or every client's (at most `limit`).
   * The ledger (event_ids_pkey) gives each key's client and timestamp, then events_client_time_idx
   * finds the row in that day's partition only. The ledger keeps the key of every event still in a
   * partition (the archive pass trims only keys whose day has moved).
   */
  async stored(id: string, clientId: string | undefined, limit = 1): Promise<EventViewRow[]> {
    const res = await this.pool.query<EventViewRow>(
      `SELECT ${EVENT_VIEW_COLUMNS} FROM event_ids l
         JOIN events e ON e.client_id = l.client_id AND e.timestamp = l.timestamp AND e.id = l.id
        WHERE l.id = $1 AND ($2::text IS NULL OR l.client_id = $2)
        ORDER BY l.client_id LIMIT $3`,
      [id, clientId ?? null, limit],
    );
    return res.rows;
  }

  /**
   * The UTC days of the events with this id in the deduplication ledger (event_ids_pkey): where an
   * event no longer hot was archived, while the ledger still has its key (DEDUPE_WINDOW_DAYS).
   */
  async ledgerDays(id: string, clientId: string | undefined): Promise<string[]> {
    const res = await this.pool.query<{ day: string }>(
      `SELECT DISTINCT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day FROM event_ids
        WHERE id = $1 AND ($2::text IS NULL OR client_id = $2) ORDER BY 1`,
      [id, clientId ?? null],
    );
    return res.rows.map((r) => r.day);
  }

  /** The quarantined events with this id: one client's or every client's (rejected_events_pkey). */
  async quarantined(id: string, clientId: string | undefined, limit = 1): Promise<QuarantineRow[]> {
    const columns = `raw, client_id, coalesce(reasons, '{}') AS reasons, errors::text AS errors`;
    const res =
      clientId === undefined
        ? await this.pool.query<QuarantineRow>(
            `SELECT ${columns} FROM rejected_events WHERE event_id = $1 ORDER BY client_id LIMIT $2`,
            [id, limit],
          )
        : await this.pool.query<QuarantineRow>(
            `SELECT ${columns} FROM rejected_events WHERE event_id = $1 AND client_id = $2`,
            [id, clientId],
          );
    return res.rows;
  }

  /**
   * The next `take` quarantined events matching the filter after `after`, along (rejected_at, seq)
   * (rejected_time_idx): rows left in the quarantine are never read twice.
   */
  async quarantinePage(
    filter: QuarantineFilter,
    after: QuarantineKey | undefined,
    take: number,
  ): Promise<(QuarantineKey & { raw: string; event_seq: string | null })[]> {
    const q = quarantineWhere(filter, after);
    const res = await this.pool.query<QuarantineKey & { raw: string; event_seq: string | null }>(
      `SELECT raw, event_seq::text AS event_seq, rejected_at::text AS rejected_at, seq::text AS seq FROM rejected_events
          ${q.whereClause()}
          ORDER BY rejected_at, seq LIMIT ${take}`,
      q.params,
    );
    return res.rows;
  }

  /** Whether a quarantined event matching the filter lies after `after`. */
  async quarantineHasMore(filter: QuarantineFilter, after: QuarantineKey): Promise<boolean> {
    const q = quarantineWhere(filter, after);
    const res = await this.pool.query(`SELECT 1 FROM rejected_events ${q.whereClause()} LIMIT 1`, q.params);
    return res.rows.length > 0;
  }

  /** Replaces the reasons and errors of quarantined events (re-checked against today's schemas). */
  async refreshReasons(rejected: Quarantined[]): Promise<void> {
    await this.pool.query(
      `UPDATE rejected_events r SET reasons = ARRAY(SELECT jsonb_array_elements_text(t.reasons)), errors = t.errors
           FROM json_to_recordset($1::json) AS t(id uuid, client_id text, reasons jsonb, errors jsonb)
          WHERE r.event_id = t.id AND r.client_id = t.client_id`,
      [
        JSON.stringify(
          rejected.map((q) => ({
            id: q.event.id,
            client_id: q.event.client_id,
            reasons: reasonsOf(q.errors),
            errors: q.errors,
          })),
        ),
      ],
    );
  }

  /** Drops the quarantine copies of these events (rejected_events_pkey). */
  async unquarantine(keys: EventKey[]): Promise<void> {
    await this.pool.query(
      `DELETE FROM rejected_events r USING json_to_recordset($1::json) AS t(id uuid, client_id text)
        WHERE r.event_id = t.id AND r.client_id = t.client_id`,
      [JSON.stringify(keys.map((k) => ({ id: k.id, client_id: k.client_id })))],
    );
  }
}

const reasonsOf = (errors: RejectError[]): string[] => [...new Set(errors.map((e) => e.reason))];

/** A quarantined event as a row of QUARANTINE's JSON parameters. */
function quarantineRow({ event, errors }: Quarantined): Record<string, unknown> {
  // The arrival order is a column of its own (event_seq): the raw text is the event as accepted.
  const { seq, ...accepted } = event;
  return {
    id: event.id,
    seq,
    session_id: event.session_id,
    category: event.category,
    name: event.name,
    // JSON.stringify escapes NUL and lone surrogates as \uXXXX text: the raw text stores as-is.
    raw: JSON.stringify(accepted),
    timestamp: event.timestamp,
    received_at: event.received_at,
    client_id: event.client_id,
    reasons: reasonsOf(errors),
    errors,
  };
}

function quarantineWhere(filter: QuarantineFilter, after: QuarantineKey | undefined): Sql {
  const q = new Sql();
  if (filter.category !== undefined) q.and(`category = ${q.param(filter.category)}`);
  if (filter.name !== undefined) q.and(`name = ${q.param(filter.name)}`);
  if (filter.reason !== undefined) q.and(`${q.param(filter.reason)} = ANY(reasons)`);
  if (filter.from !== undefined) q.and(`rejected_at >= ${q.param(filter.from)}::timestamptz`);
  if (filter.to !== undefined) q.and(`rejected_at <= ${q.param(filter.to)}::timestamptz`);
  if (filter.ids !== undefined) q.and(`event_id = ANY(${q.param(filter.ids)}::uuid[])`);
  if (after) {
    q.and(`(rejected_at, seq) > (${q.param(after.rejected_at)}::timestamptz, ${q.param(after.seq)}::bigint)`);
  }
  return q;
}
