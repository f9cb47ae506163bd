// The month's PostgreSQL side, for the full-size run through the service (bench/month/README in
// bench/results/month.md):
//   register   every seeded file under ARCHIVE_DIR → archive_files (the service reads registered
//              files only) and its per-minute counts → event_counts (stats read the rollups)
//   load-day   one day of the same generator into its hot partition (CSV by DuckDB, one COPY,
//              indexes built at ATTACH), its ledger keys and per-minute counts: the day the real
//              archive pass then moves
// tsx bench/month/prepare.ts register --dir /work/month-data/archive
// tsx bench/month/prepare.ts load-day --day 2026-12-05 --index 28
import { rm, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { archiveFilesByDay } from '../../src/archive/archive-layout';
import { DuckDbService } from '../../src/archive/duckdb.service';
import { loadConfig } from '../../src/config/config';
import {
  bumpSequence,
  fillLedger,
  ledgerSize,
  loadDayPartition,
  minuteCountsFromPartition,
  partitionSize,
  registerFile,
  replaceMinuteCounts,
} from './pg.repository';
import { minuteCounts, parquetRows, seedDayCsv } from './seed.repository';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string', default: '/work/month-data/archive' },
    'database-url': {
      type: 'string',
      default: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/the_eye_month',
    },
    day: { type: 'string' },
    index: { type: 'string' },
    'events-per-day': { type: 'string', default: '8640000' },
    tmp: { type: 'string', default: '/work/month-data/tmp' },
    'memory-limit': { type: 'string', default: '2GB' },
  },
});
const root = resolve(args.dir);
const config = loadConfig({
  ARCHIVE_DIR: root,
  DUCKDB_MEMORY_LIMIT: args['memory-limit'],
  DUCKDB_THREADS: '2',
});
const duckdb = new DuckDbService(config);
const out = (s: string): boolean =>
  process.stdout.write(`[prepare ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function register(pg: Client): Promise<void> {
  for (const { day, files } of await archiveFilesByDay(root)) {
    for (const file of files) {
      const events = await duckdb.use((c) => parquetRows(c, file));
      const bytes = (await stat(file)).size;
      const added = await registerFile(pg, { path: relative(root, file), day, events, bytes });
      if (!added) continue;
      const counts = await duckdb.use((c) => minuteCounts(c, file));
      await replaceMinuteCounts(pg, day, counts);
      out(`registered ${relative(root, file)}: ${events} events, ${(bytes / events).toFixed(1)} bytes/event`);
    }
  }
}

async function loadDay(pg: Client): Promise<void> {
  const day = args.day;
  const index = Number(args.index);
  const events = Number(args['events-per-day']);
  if (!day || !Number.isInteger(index)) throw new Error('load-day needs --day YYYY-MM-DD --index n');
  const csv = join(args.tmp, `day-${day}.csv`);
  const t0 = performance.now();
  await duckdb.use((c) =>
    seedDayCsv(c, { day, index, events, sessionLength: 20, rareEvery: 1_000_000, path: csv }),
  );
  const csvS = (performance.now() - t0) / 1000;
  out(
    `CSV of ${day}: ${events} events in ${csvS.toFixed(0)} s (${((await stat(csv)).size / 1e9).toFixed(2)} GB)`,
  );
  const load = await loadDayPartition(pg, day, csv);
  out(
    `COPY ${load.rows} rows in ${load.copyS.toFixed(0)} s; ATTACH (index builds) in ${load.attachS.toFixed(0)} s`,
  );
  await rm(csv, { force: true });
  let t = performance.now();
  const keys = await fillLedger(pg, day);
  out(`ledger: ${keys} keys in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  t = performance.now();
  await minuteCountsFromPartition(pg, day);
  out(`per-minute counts in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  await bumpSequence(pg, (index + 2) * events);
  const size = await partitionSize(pg, day);
  const ledger = await ledgerSize(pg);
  out(
    `hot ${day}: ${size?.rows} rows, ${((size?.bytes ?? 0) / 1e9).toFixed(2)} GB = ` +
      `${((size?.bytes ?? 0) / (size?.rows ?? 1)).toFixed(0)} bytes/event; ledger ${ledger.rows} keys, ` +
      `${(ledger.bytes / 1e9).toFixed(2)} GB; total ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
}

async function main(): Promise<void> {
  const pg = new Client({ connectionString: args['database-url'] });
  await pg.connect();
  try {
    if (positionals[0] === 'register') await register(pg);
    else if (positionals[0] === 'load-day') await loadDay(pg);
    else throw new Error('usage: prepare.ts register|load-day [options]');
  } finally {
    await pg.end();
  }
}

main()
  .catch((err: unknown) => {
    process.exitCode = 1;
    console.error(err);
  })
  .finally(() => duckdb.onApplicationShutdown());
