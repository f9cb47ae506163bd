// npm run bench:archive-rss — the service's memory at rest before and after it used the archive:
// starts `node dist/main.js` (npm start's flags, ROLE=all) on its own database, stores a few days
// of events, moves them to the archive (POST /v1/ops/archive), reads them back (pages, a funnel,
// an export), then samples RSS at rest: right after, and once DuckDB's idle close has passed.
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientToken, registerClient, storesEnv } from './lib/clients';
import { httpJson } from './lib/http';
import { procMem } from './lib/proc';
import { cleanup, dropBenchDatabase, freePort, sleep, startService } from './lib/service';

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_bench_rss';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/10';
const DAYS = ['2026-01-01', '2026-01-02', '2026-01-03'];
const PER_DAY = Number(process.env.RSS_EVENTS_PER_DAY || 20_000);

async function main(): Promise<void> {
  const archive = join(tmpdir(), `the-eye-rss-${randomBytes(4).toString('hex')}`);
  await dropBenchDatabase(DATABASE_URL);
  const admin = { id: 'rss-admin', secret: randomBytes(18).toString('base64url') };
  const service = await startService({
    entry: 'dist/main.js',
    port: await freePort(),
    env: {
      ...process.env,
      ...storesEnv(DATABASE_URL, REDIS_URL, admin),
      ARCHIVE_DIR: archive,
      LOG_LEVEL: 'warn',
    },
    readyPath: '/ready',
  });
  const rss = (): number => procMem(service.child.pid!)?.rssMb ?? NaN;
  try {
    const adminToken = await clientToken(service.base, admin.id, admin.secret);
    const writer = await registerClient(service.base, adminToken, 'rss writer', [
      'events:write',
      'events:read',
    ]);
    const token = await clientToken(service.base, writer.client_id, writer.client_secret);
    await sleep(15_000);
    const idle = rss();
    const types = [
      ['page interaction', 'pageview', { host: 'example.com', path: '/' }],
      ['page interaction', 'cta click', { host: 'example.com', path: '/', element: 'signup' }],
      ['form interaction', 'submit', { host: 'example.com', path: '/signup', form: { email: 'a@b.c' } }],
    ] as const;
    for (const day of DAYS) {
      for (let sent = 0; sent < PER_DAY; sent += 500) {
        const events = Array.from({ length: 500 }, (_, i) => {
          const [category, name, data] = types[(sent + i) % 3];
          const us = Math.floor(((sent + i) / PER_DAY) * 86_400e6);
          return {
            session_id: `s-${day}-${Math.floor((sent + i) / 20)}`,
            category,
            name,
            data,
            timestamp: new Date(Date.parse(`${day}T00:00:00Z`) + us / 1000).toISOString(),
            id: randomUUID(),
          };
        });
        const res = await httpJson('POST', `${service.base}/v1/events/batch`, { events }, token);
        if (res.status !== 202) throw new Error(`batch: ${res.status}`);
      }
    }
    await sleep(10_000); // the worker drains
    const moved = await httpJson(
      'POST',
      `${service.base}/v1/ops/archive`,
      { before: '2026-01-04' },
      adminToken,
    );
    if (moved.status !== 200) throw new Error(`archive: ${moved.status} ${JSON.stringify(moved.body)}`);
    const reads = [
      `/v1/events?category=page%20interaction&name=cta%20click&from=2026-01-01&to=2026-01-03`,
      `/v1/sessions/s-2026-01-02-7/events`,
      `/v1/events/export?category=page%20interaction&name=pageview&from=2026-01-01&to=2026-01-01`,
    ];
    for (const path of reads) {
      const res = await fetch(`${service.base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    }
    const funnel = await httpJson(
      'POST',
      `${service.base}/v1/funnels`,
      {
        steps: types.map(([category, name]) => ({ category, name })),
        within: '30m',
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-03T23:59:59Z',
      },
      token,
    );
    if (funnel.status !== 200) throw new Error(`funnel: ${funnel.status} ${JSON.stringify(funnel.body)}`);
    const peak = procMem(service.child.pid!)?.hwmMb ?? NaN;
    await sleep(5_000);
    const afterReads = rss();
    await sleep(35_000);
    const atRest = rss();
    console.log(
      `RSS (MB): idle after start ${idle.toFixed(0)}; peak ${peak.toFixed(0)}; 5 s after archive reads ` +
        `${afterReads.toFixed(0)}; 40 s after (DuckDB closed when idle) ${atRest.toFixed(0)}. ` +
        `${DAYS.length} days × ${PER_DAY} events moved: ${JSON.stringify((moved.body as { archived: unknown }).archived)}`,
    );
  } finally {
    await cleanup();
    await rm(archive, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
