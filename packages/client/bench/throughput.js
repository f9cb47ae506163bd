'use strict';
/**
 * End-to-end throughput of the `eye` CLI (npm run bench:client, from the repository root):
 * starts the service (dist/main.js, with the node flags of `npm start`) on its own database and
 * Redis database, writes an NDJSON file of BENCH_EVENTS events, runs `eye send` on it, waits until
 * every event is stored, and prints the rate client → stored and the CLI's peak RSS.
 *
 * Environment (all optional):
 *   BENCH_EVENTS        events in the file (default 1,000,000)
 *   BENCH_DATABASE_URL  default postgresql://postgres@127.0.0.1:5432/the_eye_bench_client (dropped first)
 *   BENCH_REDIS_URL     default redis://127.0.0.1:6379/12 (flushed first)
 *   BENCH_CONCURRENCY   the CLI's --concurrency (default: the CLI's own)
 *   BENCH_BATCH_SIZE    the CLI's --batch-size (default: the CLI's own)
 *   BENCH_KEEP_FILE=1   keep the NDJSON file (its path is printed)
 */
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { Client } = require('pg');
const Redis = require('ioredis');

const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
// Run as a user runs it: the bin, with the node flags of its shebang.
const EYE = path.join(__dirname, '..', 'bin', 'eye.js');
const env = process.env;
const cfg = {
  events: Number(env.BENCH_EVENTS || 1_000_000),
  databaseUrl: env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_bench_client',
  redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/12',
  adminId: 'bench-admin',
  adminSecret: crypto.randomBytes(16).toString('hex'),
};
const children = new Set();

function log(message) {
  process.stderr.write(`[bench:client] ${message}\n`);
}

async function resetStores() {
  const dbName = new URL(cfg.databaseUrl).pathname.slice(1);
  if (!/^the_eye_bench/.test(dbName)) throw new Error(`refusing to drop ${dbName}: not a bench database`);
  const adminUrl = new URL(cfg.databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(cfg.redisUrl);
  await redis.flushdb();
  redis.disconnect();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startService() {
  const port = await freePort();
  const startScript = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  const flags = (/^node\s+(.*?)\s*dist\/main\.js/.exec(startScript)?.[1] ?? '').split(/\s+/).filter(Boolean);
  const logPath = path.join(os.tmpdir(), `eye-bench-client-service-${process.pid}.log`);
  const logFd = fs.openSync(logPath, 'w');
  const child = spawn(process.execPath, [...flags, path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: env.PATH,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: cfg.databaseUrl,
      REDIS_URL: cfg.redisUrl,
      ADMIN_CLIENT_ID: cfg.adminId,
      ADMIN_CLIENT_SECRET: cfg.adminSecret,
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  children.add(child);
  child.on('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}); log: ${logPath}`);
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`service not ready after 120 s; log: ${logPath}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, url, logPath };
}

async function json(url, init) {
  const res = await fetch(url, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function registerWriter(url) {
  const post = (p, body, token) =>
    json(`${url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const { access_token } = await post('/v1/auth/token', {
    client_id: cfg.adminId,
    client_secret: cfg.adminSecret,
  });
  const c = await post('/v1/clients', { name: 'bench client', scopes: ['events:write'] }, access_token);
  return { clientId: c.client_id, secret: c.client_secret };
}

/** Events shaped like SPEC.md's example, without ids (the client assigns them, as in an application). */
async function writeEvents(file, n) {
  const out = fs.createWriteStream(file);
  const sessions = Array.from({ length: 1000 }, () => crypto.randomUUID());
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) {
    const line =
      `{"session_id":"${sessions[i % sessions.length]}","category":"page interaction","name":"pageview",` +
      `"data":{"host":"www.consumeraffairs.com","path":"/products/${i % 997}"},` +
      `"timestamp":"${now}"}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function main() {
  if (!fs.existsSync(CLI) || !fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) {
    throw new Error('build first: npm run build && npm run build -w @the-eye/client');
  }
  log(`${cfg.events.toLocaleString('en-US')} events; database ${cfg.databaseUrl}, redis ${cfg.redisUrl}`);
  await resetStores();
  const service = await startService();
  const writer = await registerWriter(service.url);
  const file = path.join(os.tmpdir(), `eye-bench-client-${process.pid}.ndjson`);
  await writeEvents(file, cfg.events);
  log(`wrote ${file} (${(fs.statSync(file).size / 1e6).toFixed(1)} MB); sending`);

  const db = new Client({ connectionString: cfg.databaseUrl });
  await db.connect();
  // Quarantined events count as done (and fail the run): waiting for them would only time out.
  const settled = async () => {
    const { rows } = await db.query(
      'SELECT (SELECT count(*) FROM events) AS stored, (SELECT count(*) FROM rejected_events) AS rejected',
    );
    return { stored: Number(rows[0].stored), rejected: Number(rows[0].rejected) };
  };

  const args = ['send', file, '--quiet'];
  if (env.BENCH_CONCURRENCY) args.push('--concurrency', env.BENCH_CONCURRENCY);
  if (env.BENCH_BATCH_SIZE) args.push('--batch-size', env.BENCH_BATCH_SIZE);
  const started = performance.now();
  const cli = spawn(EYE, args, {
    env: {
      PATH: env.PATH,
      EYE_URL: service.url,
      EYE_CLIENT_ID: writer.clientId,
      EYE_CLIENT_SECRET: writer.secret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(cli);
  let cliOut = '';
  cli.stdout.on('data', (d) => (cliOut += d));
  let peakKb = 0;
  const sampler = setInterval(() => (peakKb = Math.max(peakKb, rssKb(cli.pid))), 50);
  const cliExit = new Promise((resolve) => cli.on('exit', (code) => resolve(code)));
  let cliCode;
  let cliSeconds;
  void cliExit.then((code) => {
    cliCode = code;
    cliSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    children.delete(cli);
  });

  let count = 0;
  let rejected = 0;
  let lastChange = performance.now();
  while (count + rejected < cfg.events) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await settled();
    if (now.stored + now.rejected !== count + rejected) lastChange = performance.now();
    count = now.stored;
    rejected = now.rejected;
    if (cliCode !== undefined && cliCode !== 0) break;
    if (performance.now() - lastChange > 60_000) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await cliExit;
  await db.end();

  const result = {
    events: cfg.events,
    stored: count,
    quarantined: rejected,
    end_to_end_seconds: Number(seconds.toFixed(2)),
    end_to_end_events_per_second: Math.round(count / seconds),
    cli_seconds: Number(cliSeconds.toFixed(2)),
    cli_exit_code: cliCode,
    cli_peak_rss_mb: Number((peakKb / 1024).toFixed(1)),
    cpus: os.cpus().length,
  };
  log(`cli: ${cliOut.trim()}`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);

  if (env.BENCH_KEEP_FILE === '1') log(`kept ${file}`);
  else fs.rmSync(file, { force: true });
  service.child.kill('SIGTERM');
  await once(service.child, 'exit');
  if (count !== cfg.events || cliCode !== 0) {
    log(`FAILED: ${count} of ${cfg.events} stored, cli exit ${cliCode}; service log ${service.logPath}`);
    process.exitCode = 1;
  }
}

function killChildren() {
  for (const c of children) c.kill('SIGKILL');
}
process.on('SIGINT', () => {
  killChildren();
  process.exit(130);
});
main().catch((err) => {
  log(err.stack || String(err));
  killChildren();
  process.exitCode = 1;
});
