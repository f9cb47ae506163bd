// The raw COPY phase (issue 22): the batch phase's kind of events copied straight into a scratch copy
// of `events` (its columns, defaults and every index) with one COPY stream, while the service is idle:
// what PostgreSQL alone can store on this machine, to which batch's persisted events/s is compared.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EventPartitionsRepository } from '../src/archive/event-partitions.repository';
import { APP_DB_ROLE_OPTION } from '../src/prisma/pg-pool';
import { EventsRepository } from '../src/processing/events.repository';
import type { QueuedEvent } from '../src/queue/queue.contract';
import { cfg, log, round } from './config';
import { payloads } from './phases';
import type { BenchContext } from './sampling';
import type { BatchDto } from '../packages/client/src/wire/openapi';

const SCRATCH = 'bench_raw_copy';
/** Events per store() call: the worker's transactions hold up to 8 jobs of ≤ 200 events. */
const STORE_BATCH = 800;
const COLUMNS = 'id, session_id, category, name, data, timestamp, received_at, client_id';
/** Distinct rows generated before the clock starts; the stream cycles through them with fresh ids. */
const TEMPLATES = 10_000;
const ROWS_PER_CHUNK = 1_000;

export interface RawCopyResult {
  name: 'raw-copy';
  table: string;
  events: number;
  seconds: number | null;
  events_per_s: number | null;
  /**
   * The worker's own statement (EventsRepository.store: ledger, partition, sessions, per-minute
   * counts) on the same kind of events, called directly in batches of STORE_BATCH with two in flight
   * like the worker: what the pipeline costs beyond PostgreSQL's part (issue 22: where the time goes).
   */
  store_events_per_s: number | null;
}

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
const text = (v: string): string =>
  v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

/** Every column of a row but its id, as the batch phase's request bodies carry the events. */
function templates(n: number): string[] {
  const out: string[] = [];
  const receivedAt = new Date().toISOString();
  while (out.length < n) {
    const { events } = JSON.parse(payloads.batchBody()) as BatchDto;
    for (const e of events) {
      const cols = [
        e.session_id,
        e.category,
        e.name,
        JSON.stringify(e.data),
        e.timestamp,
        receivedAt,
        'bench-raw',
      ];
      out.push(`\t${cols.map(text).join('\t')}\n`);
    }
  }
  return out.slice(0, n);
}

/**
 * Copies `events` rows into a fresh scratch table shaped like `events` (dropped afterwards) and
 * times it from the COPY's start to its commit.
 */
export async function rawCopyPhase(ctx: BenchContext, events: number): Promise<RawCopyResult> {
  const rows = templates(Math.min(TEMPLATES, events));
  await ctx.pg.query(`DROP TABLE IF EXISTS ${SCRATCH}`);
  await ctx.pg.query(
    `CREATE TABLE ${SCRATCH} (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`,
  );
  log(
    `raw-copy: ${events} events into ${SCRATCH} (events' columns and indexes), one COPY stream, service idle`,
  );
  let sent = 0;
  const source = Readable.from(
    (function* () {
      while (sent < events) {
        const n = Math.min(ROWS_PER_CHUNK, events - sent);
        let chunk = '';
        for (let i = 0; i < n; i++) chunk += randomUUID() + rows[(sent + i) % rows.length];
        sent += n;
        yield chunk;
      }
    })(),
  );
  try {
    const started = performance.now();
    const copy = ctx.pg.query(copyFrom(`COPY ${SCRATCH} (${COLUMNS}) FROM STDIN`));
    await pipeline(source, copy);
    const seconds = (performance.now() - started) / 1000;
    if (copy.rowCount !== events) throw new Error(`raw-copy: COPY stored ${copy.rowCount} rows of ${events}`);
    const res: RawCopyResult = {
      name: 'raw-copy',
      table: `${SCRATCH} (LIKE events, with its indexes)`,
      events,
      seconds: round(seconds, 2),
      events_per_s: round(events / seconds),
      store_events_per_s: null,
    };
    log(`raw-copy: ${res.events_per_s} events/s (${res.seconds} s)`);
    res.store_events_per_s = await storeDirect(events);
    log(`raw-copy: the worker's statement alone: ${res.store_events_per_s} events/s`);
    return res;
  } finally {
    await ctx.pg.query(`DROP TABLE IF EXISTS ${SCRATCH}`);
  }
}

/** How many events the raw phase copies: as many as the batch phase stored, else 20,000 per second of load. */
export function rawCopyEvents(batchRowsStored: number | undefined): number {
  return Math.max(ROWS_PER_CHUNK, batchRowsStored || cfg.seconds * 20_000);
}

/** Stores `events` batch-phase events with the worker's statement, two calls in flight; events/s. */
async function storeDirect(events: number): Promise<number | null> {
  const pool = new Pool({ connectionString: cfg.databaseUrl, max: 2, options: APP_DB_ROLE_OPTION });
  const repo = new EventsRepository(pool, new EventPartitionsRepository(pool));
  const receivedAt = new Date().toISOString();
  const batches: QueuedEvent[][] = [];
  for (let left = events; left > 0; left -= STORE_BATCH) {
    const batch: QueuedEvent[] = [];
    while (batch.length < Math.min(STORE_BATCH, left)) {
      for (const e of (JSON.parse(payloads.batchBody()) as BatchDto).events) {
        batch.push({
          ...(e as QueuedEvent),
          id: randomUUID(),
          received_at: receivedAt,
          client_id: 'bench-store',
        });
      }
    }
    batches.push(batch.slice(0, Math.min(STORE_BATCH, left)));
  }
  try {
    await repo.store(batches[0].slice(0, 1), []); // the day's partition, the prepared statement
    let next = 0;
    const started = performance.now();
    const lane = async (): Promise<void> => {
      while (next < batches.length) await repo.store(batches[next++], []);
    };
    await Promise.all([lane(), lane()]);
    return round(events / ((performance.now() - started) / 1000));
  } finally {
    await pool.end();
  }
}
