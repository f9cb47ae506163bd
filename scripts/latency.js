#!/usr/bin/env node
// Measures p50/p95 latency of every analytics query path over HTTP, on the seeded database
// (scripts/seed.js). Starts the service from dist-analytics on a free port, or targets a running
// one with --url (then ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET must be that deployment's admin).
// Requests are sequential (one in flight), after a warm-up; parameters vary between requests
// (different sessions, time windows, cursors) so no single cached page is measured.
//
//   npx tsc -p tsconfig.build.json --outDir dist-analytics
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/the_eye_seed node scripts/latency.js [--requests 200] [--url http://…]
//
// Prints a table and writes bench/results/analytics-latency.json.
'use strict';
const { spawn } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { loadavg } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');

const DATABASE_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_seed';
const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const REQUESTS = Number(argValue('--requests') || 200);
const WARMUP = 20;
const TARGET_P95_MS = 50;
const ADMIN_ID = process.env.ADMIN_CLIENT_ID || 'latency-admin';
const ADMIN_SECRET = process.env.ADMIN_CLIENT_SECRET || 'latency-admin-secret-0123456789';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startService() {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist-analytics', 'main.js')], {
    env: {
      ...process.env,
      DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379/13',
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_CLIENT_ID: ADMIN_ID,
      ADMIN_CLIENT_SECRET: ADMIN_SECRET,
      JWT_SECRET: process.env.JWT_SECRET || 'latency-jwt-secret-0123456789-0123456789-abcdef',
      NODE_ENV: 'development',
      ROLE: 'api',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('service did not become healthy within 60 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The same cursor encoding as src/analytics/cursor.ts (a position taken from the database). */
const cursor = (kind, order, position) =>
  Buffer.from(JSON.stringify({ v: 1, k: kind, o: order, p: position })).toString('base64url');
const TS = (col) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

async function samples() {
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const sessions = (
      await db.query(`SELECT session_id FROM sessions TABLESAMPLE SYSTEM (5) LIMIT 200`)
    ).rows.map((r) => r.session_id);
    const deep = (
      await db.query(`SELECT ${TS('timestamp')} AS ts, seq::text AS seq FROM events
        WHERE seq IN (SELECT (random() * 1000000)::bigint FROM generate_series(1, 50)) AND seq > 500000`)
    ).rows.map((r) => cursor('events', 'asc', [r.ts, r.seq]));
    const days = Array.from({ length: 28 }, (_, i) => `2026-10-${String(i + 2).padStart(2, '0')}`);
    return { sessions, deep, days };
  } finally {
    await db.end();
  }
}

const pickFrom = (items, i) => items[i % items.length];
const enc = encodeURIComponent;

function variants(s) {
  return [
    ['baseline: GET /health (no query)', () => `/health`],
    ['session timeline', (i) => `/v1/sessions/${enc(pickFrom(s.sessions, i))}/events`],
    ['session timeline, desc', (i) => `/v1/sessions/${enc(pickFrom(s.sessions, i))}/events?order=desc`],
    ['events: no filter', () => `/v1/events`],
    [
      'events: time range (1 day)',
      (i) => `/v1/events?from=${pickFrom(s.days, i)}&to=${pickFrom(s.days, i)}T23:59:59.999999Z`,
    ],
    [
      'events: by category',
      (i) =>
        `/v1/events?category=${enc(pickFrom(['page interaction', 'form interaction', 'media', 'experiment'], i))}`,
    ],
    [
      'events: by category+name',
      (i) =>
        `/v1/events?category=${enc(pickFrom(['page interaction', 'form interaction', 'search'], i))}&name=${enc(pickFrom(['cta click', 'submit', 'query'], i))}`,
    ],
    [
      'events: category+name+range, desc',
      (i) =>
        `/v1/events?category=form%20interaction&name=submit&from=${pickFrom(s.days, i)}&to=2026-10-31&order=desc`,
    ],
    ['events: by name only', (i) => `/v1/events?name=${enc(pickFrom(['pageview', 'exposure', 'query'], i))}`],
    [
      'events: by client_id',
      (i) => `/v1/events?client_id=${pickFrom(['partner-widget', 'mobile-ios', 'legacy-importer'], i)}`,
    ],
    ['events: client_id + range', (i) => `/v1/events?client_id=legacy-importer&from=${pickFrom(s.days, i)}`],
    ['events: deep cursor page', (i) => `/v1/events?cursor=${pickFrom(s.deep, i)}`],
    ['events: limit=1000', (i) => `/v1/events?from=${pickFrom(s.days, i)}&limit=1000`],
    ['sessions list', (i) => `/v1/sessions?from=${pickFrom(s.days, i)}`],
    ['stats: minute', (i) => `/v1/stats/events?interval=minute&from=${pickFrom(s.days, i)}&to=2026-10-31`],
    [
      'stats: hour',
      (i) =>
        `/v1/stats/events?interval=hour&group_by=${pickFrom(['name', 'category'], i)}&from=2026-10-01&to=2026-10-31`,
    ],
    [
      'stats: day (30 days)',
      (i) =>
        `/v1/stats/events?interval=day&group_by=${pickFrom(['name', 'category'], i)}&from=2026-10-01&to=2026-10-31`,
    ],
    ['rejected list', () => `/v1/rejected-events`],
    [
      'rejected: reason/client filter',
      (i) =>
        `/v1/rejected-events?reason=${pickFrom(['payload_invalid', 'unknown_event_type', 'payload_unstorable'], i)}&client_id=${pickFrom(['web-frontend', 'partner-widget'], i)}`,
    ],
  ];
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  const target = argValue('--url');
  const service = target ? { url: target.replace(/\/$/, ''), child: null } : await startService();
  try {
    const tokenRes = await fetch(`${service.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: ADMIN_ID, client_secret: ADMIN_SECRET }),
    });
    if (!tokenRes.ok) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`);
    const { access_token: token } = await tokenRes.json();
    const s = await samples();
    const results = [];
    for (const [label, path] of variants(s)) {
      const times = [];
      let rows = 0;
      for (let i = 0; i < WARMUP + REQUESTS; i++) {
        const started = process.hrtime.bigint();
        const res = await fetch(`${service.url}${path(i)}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = await res.json();
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.status !== 200)
          throw new Error(`${label}: ${path(i)} → ${res.status} ${JSON.stringify(body)}`);
        if (i >= WARMUP) {
          times.push(ms);
          rows += Array.isArray(body.data) ? body.data.length : 0;
        }
      }
      times.sort((a, b) => a - b);
      results.push({
        path: label,
        requests: REQUESTS,
        avg_rows: Math.round(rows / REQUESTS),
        p50_ms: +percentile(times, 50).toFixed(2),
        p95_ms: +percentile(times, 95).toFixed(2),
        p99_ms: +percentile(times, 99).toFixed(2),
        max_ms: +times[times.length - 1].toFixed(2),
      });
    }
    const load = loadavg().map((l) => l.toFixed(2));
    console.log(
      `\n${REQUESTS} sequential requests per path (after ${WARMUP} warm-up), ${service.url}; load average ${load.join(' ')}\n`,
    );
    console.log('| path | rows/page | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|');
    for (const r of results) {
      const flag = r.p95_ms >= TARGET_P95_MS ? ' ⚠' : '';
      console.log(
        `| ${r.path} | ${r.avg_rows} | ${r.p50_ms} | ${r.p95_ms}${flag} | ${r.p99_ms} | ${r.max_ms} |`,
      );
    }
    const out = join(__dirname, '..', 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      join(out, 'analytics-latency.json'),
      JSON.stringify(
        { measured_at: new Date().toISOString(), target_p95_ms: TARGET_P95_MS, results },
        null,
        2,
      ) + '\n',
    );
    const missed = results.filter((r) => r.p95_ms >= TARGET_P95_MS);
    console.log(
      missed.length
        ? `\n${missed.length} path(s) at or over ${TARGET_P95_MS} ms p95`
        : `\nall paths under ${TARGET_P95_MS} ms p95`,
    );
    console.log('written to bench/results/analytics-latency.json');
    if (missed.length) process.exitCode = 1;
  } finally {
    if (service.child) {
      service.child.kill('SIGTERM');
      await new Promise((r) => service.child.once('exit', r));
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
