// The same archive pass under the same load, with the roles split as in production: the API
// (ROLE=api) acks, a worker (ROLE=worker) stores and runs the pass from its timer. Says whether
// the acks suffer from sharing the pass's event loop (ROLE=all) or from sharing the machine.
// The pass's start is seen in pg_stat_activity (the day being read), its end in the registry.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ROOT, sleep, startFlags, stopChild, track } from '../lib/service';
import { pacedRun } from '../load';
import { type ArchiveUnderLoad, aroundPass, readTrace } from './archive-load';
import { archiveReadRunning, dayMoved } from './pg.repository';
import { type MonthStores, monthEnv, startMonthService, writer } from './service';

const TAIL_MS = 10_000;

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function archiveSplit(
  s: MonthStores,
  o: { day: string; rate: number; intervalS: number; traceFile: string; workerLog: string },
  log: (s: string) => void,
): Promise<ArchiveUnderLoad & { mode: string }> {
  const api = await startMonthService(s, { ROLE: 'api' });
  const fd = openSync(o.workerLog, 'w');
  const worker = track(
    spawn(process.execPath, [...startFlags(), join(ROOT, 'dist/main.js')], {
      cwd: ROOT,
      env: monthEnv(s, { ROLE: 'worker', LOG_LEVEL: 'log', ARCHIVE_INTERVAL: `${o.intervalS}s` }),
      stdio: ['ignore', fd, fd],
    }),
  );
  closeSync(fd);
  const pg = new Client({ connectionString: s.databaseUrl });
  await pg.connect();
  try {
    await waitFor(
      'the worker',
      () => Promise.resolve(readFileSync(o.workerLog, 'utf8').includes('worker started')),
      120_000,
      250,
    );
    log(`worker up; its timer's first pass in ${o.intervalS} s; ${o.rate} single events/s meanwhile`);
    const { token } = await writer(api, 'month archive-split');
    const control: { stop?: () => void } = {};
    const load = pacedRun({
      base: api.base,
      path: '/v1/events',
      token,
      kind: 'single',
      rate: o.rate,
      seconds: 3_600,
      traceFile: o.traceFile,
      control,
    });
    const t0 = await waitFor('the pass to start', () => archiveReadRunning(pg), o.intervalS * 1000 + 120_000);
    const t1 = await waitFor('the pass to end', () => dayMoved(pg, o.day), 3_600_000, 200);
    log(`pass (worker's timer) moved ${o.day} in ${((t1 - t0) / 1000).toFixed(1)} s`);
    await sleep(TAIL_MS);
    control.stop?.();
    const result = await load;
    const rows = readTrace(o.traceFile);
    return {
      mode: 'ROLE=api + ROLE=worker (the pass from the worker timer)',
      day: o.day,
      before: '(timer: EVENTS_HOT_DAYS=2)',
      rate: o.rate,
      ...aroundPass(rows, result, t0, t1),
      pass_status: 200,
      pass_result:
        readFileSync(o.workerLog, 'utf8')
          .split('\n')
          .filter((l) => l.includes('archive pass'))
          .slice(-1)[0] ?? null,
      pass_covered_by_load: true,
    };
  } finally {
    await pg.end();
    await stopChild(worker, 'SIGTERM', 30_000);
    await api.stop();
  }
}
