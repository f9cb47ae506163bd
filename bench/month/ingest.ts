// Ingestion with the month stored against the same on an empty database, in one run: bench.ts's
// batch ceiling phase (10 connections × batches of 100, persisted rate measured until the queue
// is drained) against each database in turn, alternating. Each phase counts the rows of its own
// new client instead of truncating: the month stays.
import { basename } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { cfg } from '../config';
import { servicePhase, type PhaseResult } from '../phases';
import type { BenchContext } from '../sampling';
import { clientRows, dropMonthDatabase } from './pg.repository';
import { type MonthStores, startMonthService, writer } from './service';

export interface IngestRound {
  database: string;
  label: 'empty' | 'month';
  persisted_events_per_s: number;
  acked_events_per_s: number;
  ack_p99_ms: number | null;
  drained: boolean;
  rows_stored: number;
  missing_events: number;
  window_s: number | null;
  cpu_other_s: number | null;
}

async function oneRound(
  stores: MonthStores,
  label: 'empty' | 'month',
  log: (s: string) => void,
): Promise<IngestRound> {
  const m = await startMonthService(stores);
  const pg = new Client({ connectionString: stores.databaseUrl });
  const redis = new Redis(stores.redisUrl);
  await pg.connect();
  try {
    const w = await writer(m, `month ingest ${label}`);
    const ctx: BenchContext = {
      base: m.base,
      pid: m.pid,
      redis,
      pg,
      token: w.token,
      adminToken: m.adminToken,
      dbName: basename(new URL(stores.databaseUrl).pathname),
      rows: { count: (db) => clientRows(db, w.clientId), reset: () => Promise.resolve() },
    };
    const r: PhaseResult = await servicePhase(ctx, `batch-${label}`, {
      endpoint: 'batch',
      connections: cfg.batchConnections,
    });
    log(`${label}: persisted ${r.persisted_events_per_s} events/s (acked ${r.acked_events_per_s})`);
    return {
      database: ctx.dbName,
      label,
      persisted_events_per_s: r.persisted_events_per_s,
      acked_events_per_s: r.acked_events_per_s,
      ack_p99_ms: r.latency_ms.p99,
      drained: r.drained,
      rows_stored: r.rows_stored,
      missing_events: r.missing_events,
      window_s: r.window_s,
      cpu_other_s: r.cpu_s.other ?? null,
    };
  } finally {
    await pg.end();
    redis.disconnect();
    await m.stop();
  }
}

/** `rounds` × (empty, month); the empty database is dropped before each of its rounds. */
export async function ingestComparison(
  month: MonthStores,
  empty: MonthStores,
  adminUrl: string,
  rounds: number,
  log: (s: string) => void,
): Promise<{ rounds: IngestRound[]; ratio: number }> {
  const out: IngestRound[] = [];
  for (let i = 0; i < rounds; i++) {
    await dropMonthDatabase(adminUrl, basename(new URL(empty.databaseUrl).pathname));
    out.push(await oneRound(empty, 'empty', log));
    out.push(await oneRound(month, 'month', log));
  }
  const mean = (l: string): number => {
    const xs = out.filter((r) => r.label === l).map((r) => r.persisted_events_per_s);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return { rounds: out, ratio: Math.round((mean('month') / mean('empty')) * 1000) / 1000 };
}
