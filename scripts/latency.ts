// Measures p50/p95 latency of every analytics query path over HTTP, on the seeded database
// (scripts/seed.ts). Starts the compiled service (dist/, npm run build) on a free port, or targets a running
// one with --url (then ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET must be that deployment's admin).
// Requests are sequential (one in flight), after a warm-up; parameters vary between requests
// (different sessions, time windows, cursors) so no single cached page is measured.
//
//   npm run build
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/the_eye_seed npx tsx scripts/latency.ts [--requests 200] [--url http://…]
//   … npx tsx scripts/latency.ts --export [csv|ndjson]   # streams the whole events table once, sampling the service's RSS
//
// Prints a table and writes bench/results/analytics-latency.{json,md} (the export:
// analytics-export-<format>.json). A path may run fewer requests than --requests when one request
// reads most of the table (the 30-day funnel over the commonest type): its row says how many.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { freePort, killChildrenOnExit, startService, stopChild } from '../bench/lib/service';
import { type LatencyRequest, samples, variants } from './latency-paths';
import type { TokenResponseDto } from '../packages/client/src/wire/openapi';

const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_seed';
const args = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const REQUESTS = Number(argValue('--requests') || 200);
const WARMUP = 20;
const TARGET_P95_MS = 50;
const ADMIN_ID = process.env.ADMIN_CLIENT_ID || 'latency-admin';
const ADMIN_SECRET = process.env.ADMIN_CLIENT_SECRET || 'latency-admin-secret-0123456789';

/** The compiled service (npm run build) with ROLE=api, on a free port, with the flags of `npm start`. */
async function startLatencyService(): Promise<{ url: string; child: ChildProcess | null }> {
  const service = await startService({
    entry: join('dist', 'main.js'),
    port: await freePort(),
    env: {
      ...process.env,
      DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379/13',
      ADMIN_CLIENT_ID: ADMIN_ID,
      ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      JWT_SECRET: process.env.JWT_SECRET || 'latency-jwt-secret-0123456789-0123456789-abcdef',
      NODE_ENV: 'development',
      ROLE: 'api',
      LOG_LEVEL: 'warn',
    },
    timeoutMs: 60_000,
  });
  return { url: service.base, child: service.child };
}

/** Resident set size of a process, MB (Linux /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** GET /v1/events/export of every event, read as fast as this client can, RSS sampled every 100 ms. */
async function measureExport(
  service: { url: string; child: ChildProcess | null },
  token: string,
): Promise<void> {
  const requested = argValue('--export');
  const format = requested === 'csv' || requested === 'ndjson' ? requested : 'csv';
  if (!service.child) throw new Error('--export measures the memory of the service it starts: no --url');
  const pid = service.child.pid!;
  const samplesMb = [rssMb(pid)];
  const timer = setInterval(() => samplesMb.push(rssMb(pid)), 100);
  const started = Date.now();
  let bytes = 0;
  let lines = 0;
  try {
    const res = await fetch(`${service.url}/v1/events/export?format=${format}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.status !== 200) throw new Error(`export → ${res.status} ${await res.text()}`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    }
  } finally {
    clearInterval(timer);
  }
  const seconds = (Date.now() - started) / 1000;
  const sorted = [...samplesMb].sort((a, b) => a - b);
  const result = {
    measured_at: new Date().toISOString(),
    format,
    lines,
    bytes,
    seconds: +seconds.toFixed(1),
    rss_mb: {
      before: +samplesMb[0].toFixed(0),
      p50: +percentile(sorted, 50).toFixed(0),
      max: +sorted[sorted.length - 1].toFixed(0),
    },
    load_average: loadavg().map((l) => +l.toFixed(2)),
  };
  console.log(JSON.stringify(result, null, 2));
  const out = join(__dirname, '..', 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `analytics-export-${format}.json`), JSON.stringify(result, null, 2) + '\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const target = argValue('--url');
  const service = target ? { url: target.replace(/\/$/, ''), child: null } : await startLatencyService();
  try {
    const tokenRes = await fetch(`${service.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: ADMIN_ID,
        client_secret: ADMIN_SECRET,
      }),
    });
    if (!tokenRes.ok) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`);
    const { access_token: token } = (await tokenRes.json()) as TokenResponseDto;
    if (args.includes('--export')) return await measureExport(service, token);
    const s = await samples(DATABASE_URL);
    const loadStart = loadavg().map((l) => +l.toFixed(2));
    const results: {
      path: string;
      requests: number;
      avg_rows: number;
      p50_ms: number;
      p95_ms: number;
      p99_ms: number;
      max_ms: number;
      over_target_ok?: boolean;
    }[] = [];
    for (const [label, path, opts = {}] of variants(s)) {
      const requests = Math.min(REQUESTS, opts.requests ?? REQUESTS);
      const warmup = opts.warmup ?? WARMUP;
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < warmup + requests; i++) {
        const target = path(i);
        const req: LatencyRequest = typeof target === 'string' ? { path: target } : target;
        const started = process.hrtime.bigint();
        const res = await fetch(`${service.url}${req.path}`, {
          method: req.body ? 'POST' : 'GET',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
          },
          body: req.body ? JSON.stringify(req.body) : undefined,
        });
        const body = (await res.json()) as { data?: unknown[]; steps?: unknown[] };
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.status !== 200)
          throw new Error(`${label}: ${req.path} → ${res.status} ${JSON.stringify(body)}`);
        if (i >= warmup) {
          times.push(ms);
          rows += Array.isArray(body.data)
            ? body.data.length
            : Array.isArray(body.steps)
              ? body.steps.length
              : 0;
        }
      }
      times.sort((a, b) => a - b);
      results.push({
        path: label,
        requests,
        avg_rows: Math.round(rows / requests),
        p50_ms: +percentile(times, 50).toFixed(2),
        p95_ms: +percentile(times, 95).toFixed(2),
        p99_ms: +percentile(times, 99).toFixed(2),
        max_ms: +times[times.length - 1].toFixed(2),
        ...(opts.overTargetOk ? { over_target_ok: true } : {}),
      });
    }
    const loadEnd = loadavg().map((l) => +l.toFixed(2));
    const command = `npx tsx scripts/latency.ts ${args.join(' ')}`.trim();
    const lines = [
      `${command}: ${REQUESTS} sequential requests per path (after ${WARMUP} warm-up) unless the row says`,
      `fewer; ${new Date().toISOString()}; load average (1, 5, 15 min) ${loadStart.join(' ')} at the start,`,
      `${loadEnd.join(' ')} at the end, on ${cpus().length} cores.`,
      '',
      '| path | requests | rows/page | p50 ms | p95 ms | p99 ms | max ms |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...results.map((r) => {
        const flag = r.p95_ms < TARGET_P95_MS ? '' : r.over_target_ok ? ' (documented)' : ' ⚠';
        return `| ${r.path} | ${r.requests} | ${r.avg_rows} | ${r.p50_ms} | ${r.p95_ms}${flag} | ${r.p99_ms} | ${r.max_ms} |`;
      }),
    ];
    const missed = results.filter((r) => r.p95_ms >= TARGET_P95_MS && !r.over_target_ok);
    lines.push(
      '',
      missed.length
        ? `${missed.length} path(s) at or over ${TARGET_P95_MS} ms p95`
        : `every path under ${TARGET_P95_MS} ms p95 (except those marked documented)`,
    );
    console.log(`\n${lines.join('\n')}`);
    const out = join(__dirname, '..', 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const report = {
      measured_at: new Date().toISOString(),
      command,
      load_average: { start: loadStart, end: loadEnd },
      target_p95_ms: TARGET_P95_MS,
      results,
    };
    writeFileSync(join(out, 'analytics-latency.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(out, 'analytics-latency.md'), `${lines.join('\n')}\n`);
    console.log('written to bench/results/analytics-latency.{json,md}');
    if (missed.length) process.exitCode = 1;
  } finally {
    if (service.child) await stopChild(service.child);
  }
}

killChildrenOnExit((m) => console.error(m));
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
