#!/usr/bin/env node
'use strict';
/**
 * The Eye benchmark (issue 5): `npm run bench`.
 *
 * Builds the service into dist-bench/ (never dist/), starts it on a free loopback port against its own
 * database (the_eye_bench) and Redis db 13, and measures in one run:
 *   baseline       bare node:http server answering 202 to the same body (child process)
 *   single         POST /v1/events as fast as it goes: acked req/s, ack p50/p99, events/s persisted
 *   batch          POST /v1/events/batch of 100 events: acked events/s, events/s persisted
 *   segment-batch  POST /v1/batch (Segment's API, write key) of 100 track messages, as the batch phase
 *   rate1k-single  1,000 events/s offered (single), ack p50/p99
 *   rate1k-batch   1,000 events/s offered (10 batches/s), ack p50/p99
 *   rate60-single  60 % of the single ceiling offered
 *   rate60-batch   60 % of the batch ceiling offered
 * "Persisted" is measured until the queue is drained (the queued-events hash and the Bull queue are
 * empty), so a growing backlog cannot pass for throughput: rate = rows / (drain time - load start).
 * Tables are truncated between phases so every count is exact.
 *
 * Environment (all optional):
 *   BENCH_SECONDS=60             load duration of each phase (10 for a quick run)
 *   BENCH_CONNECTIONS=50         connections of the baseline and single-event ceiling runs
 *   BENCH_BATCH_CONNECTIONS=10   connections of the batch ceiling run
 *   BENCH_BATCH_SIZE=100         events per batch request
 *   BENCH_PHASES=a,b,...         subset of the phases above (default: all)
 *   BENCH_RATE_TOOL=paced        fixed-rate runs: `paced` (open loop, evenly spaced, latency from the scheduled
 *                                send time; a child process, bench/paced.js), `paced-http` (the same
 *                                from this process with node:http, for comparison) or `autocannon`
 *                                (overallRate; bursts at each second, see docs)
 *   BENCH_NODE_FLAGS="..."       extra node flags for the service, e.g. --trace-gc
 *   BENCH_TRACE=1                paced phases also write every request's scheduled time, latency and status to
 *                                bench/results/trace-<phase>.csv (to see when the slow ones happened)
 *   BENCH_IDS=1                  send client-chosen UUIDv7 ids (0: let the server assign them)
 *   BENCH_BATCH_DATA=native      `segment`: the batch phase's events carry what a segment-batch message becomes
 *                                (same category, name and data, ~580 bytes queued instead of ~330), to compare
 *                                the two routes on equal events
 *   BENCH_RATE60_SINGLE=n, BENCH_RATE60_BATCH=n   run the rate60 phases at n events/s instead of 60 % of this
 *                                run's ceiling (same offered load across runs, for before/after comparisons)
 *   BENCH_PROFILE=1              run the service under --cpu-prof (single phase only unless BENCH_PHASES) and
 *                                summarise self time; results go to bench/results/profile-latest.*
 *   BENCH_URL=http://host:port   target a running instance instead (then BENCH_ADMIN_ID/BENCH_ADMIN_SECRET,
 *                                BENCH_DATABASE_URL, BENCH_REDIS_URL must match it; BENCH_SERVICE_PID for RSS)
 *   BENCH_DATABASE_URL, BENCH_REDIS_URL, BENCH_MAX_BACKLOG (MAX_QUEUE_BACKLOG given to the service),
 *   BENCH_DRAIN_TIMEOUT (s), BENCH_STALL_SECONDS, BENCH_WARMUP_SECONDS, BENCH_SKIP_BUILD=1, BENCH_SERVICE_ENV
 *   (extra KEY=VALUE,... for the service, e.g. WORKER_CONCURRENCY=8)
 *
 *   node bench/bench.js --profile-summary file.cpuprofile [top]   summarise an existing CPU profile
 */
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { pace, summarize } = require('./pace');
const { makePayloads } = require('./payloads');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'bench', 'results');
const PROFILE_DIR = path.join(OUT_DIR, 'profiles');
const BUILD_DIR = 'dist-bench';

const ALL_PHASES = [
  'baseline',
  'single',
  'batch',
  'segment-batch',
  'rate1k-single',
  'rate1k-batch',
  'rate60-single',
  'rate60-batch',
];

// ---------------------------------------------------------------------------------------------- config
const env = process.env;
const num = (name, def) => {
  const v = env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number (got "${v}")`);
  return n;
};
const PROFILE = env.BENCH_PROFILE === '1' || env.BENCH_PROFILE === 'true';
const SECONDS = num('BENCH_SECONDS', 60);
const cfg = {
  seconds: SECONDS,
  connections: num('BENCH_CONNECTIONS', 50),
  batchConnections: num('BENCH_BATCH_CONNECTIONS', 10),
  batchSize: num('BENCH_BATCH_SIZE', 100),
  phases: (env.BENCH_PHASES || (PROFILE ? 'single' : ALL_PHASES.join(',')))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
  rateTool: env.BENCH_RATE_TOOL || 'paced',
  ids: env.BENCH_IDS !== '0',
  batchData: env.BENCH_BATCH_DATA || 'native',
  profile: PROFILE,
  url: env.BENCH_URL || undefined,
  databaseUrl: env.BENCH_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/the_eye_bench',
  redisUrl: env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/13',
  maxBacklog: num('BENCH_MAX_BACKLOG', 5_000_000),
  drainTimeout: num('BENCH_DRAIN_TIMEOUT', Math.max(60, 2 * SECONDS)),
  stallSeconds: num('BENCH_STALL_SECONDS', 15),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', Math.min(5, Math.max(1, Math.round(SECONDS / 4)))),
  skipBuild: env.BENCH_SKIP_BUILD === '1',
  rate60Single: num('BENCH_RATE60_SINGLE', 0),
  rate60Batch: num('BENCH_RATE60_BATCH', 0),
  trace: env.BENCH_TRACE === '1',
  nodeFlags: (env.BENCH_NODE_FLAGS || '').split(/\s+/).filter(Boolean),
  adminId: env.BENCH_ADMIN_ID || 'bench-admin',
  adminSecret:
    env.BENCH_ADMIN_SECRET || (env.BENCH_URL ? undefined : crypto.randomBytes(18).toString('base64url')),
  servicePid: env.BENCH_SERVICE_PID ? Number(env.BENCH_SERVICE_PID) : undefined,
  serviceEnv: Object.fromEntries(
    (env.BENCH_SERVICE_ENV || '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ),
};
if (!['native', 'segment'].includes(cfg.batchData))
  throw new Error(`BENCH_BATCH_DATA must be native or segment (got "${cfg.batchData}")`);
for (const p of cfg.phases)
  if (!ALL_PHASES.includes(p)) throw new Error(`unknown phase "${p}" (known: ${ALL_PHASES.join(', ')})`);
if (!['paced', 'paced-http', 'autocannon'].includes(cfg.rateTool))
  throw new Error('BENCH_RATE_TOOL must be paced, paced-http or autocannon');

// Redis keys of the service (src/queue/queue.contract.ts: prefix "the-eye", queue "events").
const QUEUED_EVENTS_KEY = 'the-eye:queued-events';
const BULL = 'the-eye:events';

const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 0) =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d;
const hrUs = () => Number(process.hrtime.bigint() / 1000n); // same clock as .cpuprofile timestamps (Linux)

// ---------------------------------------------------------------------------------------------- children
const children = new Set();
function track(child, name) {
  child.benchName = name;
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
async function stopChild(child, signal = 'SIGTERM', graceMs = 15_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(child.pid, signal);
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await exited;
  clearTimeout(t);
}
let cleaningUp = false;
async function cleanup() {
  if (cleaningUp) return;
  cleaningUp = true;
  await Promise.all([...children].map((c) => stopChild(c, 'SIGTERM', 8_000)));
}
process.on('exit', () => {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping children`);
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------- helpers
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function httpJson(method, url, body, token, timeoutMs = 10_000, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

/** /proc/<pid>/status VmRSS and VmHWM in MB; CPU seconds from /proc/<pid>/stat. */
function procMem(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) || [])[1]);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}
const CLK_TCK = 100;
function procCpuSec(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
  } catch {
    return null;
  }
}
/**
 * CPU seconds of the whole machine (all cores) from one read of /proc/stat: `busy` (steal included)
 * and `steal`, the time the hypervisor gave to other guests while this VM wanted it: time every
 * process here lost, which shows in latency although no process of ours used it.
 */
function machineCpu() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return { busy: (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK, steal: f[7] / CLK_TCK };
  } catch {
    return { busy: null, steal: null };
  }
}
/**
 * CPU seconds per process of postgres (server processes and the backends of the bench database only;
 * backends of other databases are other work) and redis-server. Deltas are taken per pid, so a process
 * exiting in between (another test's backend) cannot make a figure negative.
 */
function cpuSnapshot(dbName) {
  const snap = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      let name;
      if (comm.startsWith('redis-server')) name = 'redis';
      else if (comm.startsWith('postgres')) {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
        const isBackend = /\(\d+\)|\[local\]/.test(cmd);
        if (isBackend && !cmd.includes(` ${dbName} `)) continue;
        name = 'postgres';
      } else continue;
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      snap.set(d, { name, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      // the process ended between the listing and the read
    }
  }
  return snap;
}
function cpuDelta(a, b) {
  const out = { postgres: 0, redis: 0 };
  for (const [pid, v] of b) out[v.name] += v.cpu - (a.get(pid)?.cpu ?? 0);
  return out;
}

// ---------------------------------------------------------------------------------------------- payloads
const { singleBody, batchBody, segmentBatchBody } = makePayloads({
  ids: cfg.ids,
  batchSize: cfg.batchSize,
  batchData: cfg.batchData,
});

// ---------------------------------------------------------------------------------------------- load generators
function autocannonRun({ base, path: p, token, authorization, bodyFn, connections, seconds, overallRate }) {
  const autocannon = require('autocannon');
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${u.origin}${p}`,
        connections,
        duration: seconds,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: bodyFn(),
        requests: [
          {
            method: 'POST',
            path: p,
            setupRequest: (req) => {
              req.body = bodyFn();
              return req;
            },
          },
        ],
        ...(overallRate ? { overallRate, ignoreCoordinatedOmission: true } : {}),
        timeout: 10,
      },
      (err, r) => {
        if (err) return reject(err);
        const codes = Object.fromEntries(
          Object.entries(r.statusCodeStats || {}).map(([k, v]) => [k, Number(v.count)]),
        );
        resolve({
          tool: overallRate ? 'autocannon overallRate' : 'autocannon',
          durationS: r.duration,
          requests: Object.values(codes).reduce((a, b) => a + b, 0),
          ok2xx: r['2xx'],
          codes,
          errors: r.errors,
          timeouts: r.timeouts,
          latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        });
      },
    );
  });
}

/**
 * Open-loop constant-rate load from bench/paced.js, a child process with a lean raw-socket HTTP
 * client (see there). Its result includes `cpuS`, the CPU seconds it used.
 */
function pacedRun({ base, path: p, token, kind, rate, seconds, traceFile }) {
  const { fork } = require('node:child_process');
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const child = track(fork(path.join(__dirname, 'paced.js'), { stdio: 'inherit' }), 'generator');
    let result;
    child.once('message', (m) => (result = m));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!result) return reject(new Error(`the paced generator exited with ${code} and no result`));
      resolve({ tool: 'paced', durationS: seconds, ...result });
    });
    child.send({
      host: u.hostname,
      port: Number(u.port),
      path: p,
      token,
      kind,
      batchSize: cfg.batchSize,
      ids: cfg.ids,
      rate,
      seconds,
      traceFile,
    });
  });
}

/**
 * The same open-loop load from this process with Node's http client (`BENCH_RATE_TOOL=paced-http`), the
 * generator of the first two sessions: kept to compare generators. It costs ~2.4 times the CPU per
 * request of the child's client and shares this process's event loop with the sampling; both show in
 * the latencies it reports (see bench/paced.js).
 */
function pacedHttpRun({ base, path: p, token, bodyFn, rate, seconds, timeoutMs = 10_000 }) {
  const u = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const headers = {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const lat = [];
  // How late the generator itself sent each request (it shares the cores too): part of every latency.
  const sendLag = [];
  const codes = {};
  let errors = 0;
  const errorKinds = {};
  let timeouts = 0;
  let inflight = 0;
  let loadDone = false;
  // Requests not answered within timeoutMs of their *scheduled* time are abandoned (counted as timeouts),
  // including those still waiting for a socket: the phase ends at most timeoutMs after the load.
  const pending = new Set();
  return new Promise((resolve) => {
    const sweeper = setInterval(() => {
      const limit = performance.now() - timeoutMs;
      for (const pr of pending) {
        if (pr.scheduled > limit) continue;
        pr.timedOut = true;
        pr.req.destroy(new Error('timeout'));
      }
    }, 100);
    const finish = () => {
      if (!loadDone || inflight > 0) return;
      clearInterval(sweeper);
      agent.destroy();
      resolve({
        tool: 'paced-http',
        durationS: seconds,
        ...summarize({ lat, sendLag, codes, errors, errorKinds, timeouts }),
      });
    };
    const fire = (scheduled) => {
      sendLag.push(performance.now() - scheduled);
      const body = bodyFn();
      inflight++;
      let settled = false;
      const pr = { req: undefined, scheduled, timedOut: false };
      const settle = () => {
        if (settled) return false;
        settled = true;
        inflight--;
        pending.delete(pr);
        return true;
      };
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: p,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('error', () => undefined);
          res.on('close', () => {
            if (res.complete || !settle()) return;
            if (pr.timedOut) timeouts++;
            else errors++;
            finish();
          });
          res.on('end', () => {
            if (!settle()) return;
            lat.push(performance.now() - scheduled);
            codes[res.statusCode] = (codes[res.statusCode] || 0) + 1;
            finish();
          });
        },
      );
      pr.req = req;
      pending.add(pr);
      req.on('error', (err) => {
        if (!settle()) return;
        if (pr.timedOut) timeouts++;
        else {
          errors++;
          errorKinds[err.code || err.message] = (errorKinds[err.code || err.message] || 0) + 1;
        }
        finish();
      });
      req.end(body);
    };
    pace(rate, seconds, fire, () => {
      loadDone = true;
      finish();
    });
  });
}

// ---------------------------------------------------------------------------------------------- sampling
/** Polls RSS of the service and Redis used_memory while a phase runs. */
function startSampler(ctx) {
  const s = { rssMaxMb: 0, redisMaxMb: 0, redisStartMb: null, hlenMax: 0 };
  let busy = false;
  const once = async () => {
    if (busy) return;
    busy = true;
    try {
      if (ctx.pid) {
        const m = procMem(ctx.pid);
        if (m) s.rssMaxMb = Math.max(s.rssMaxMb, m.rssMb);
      }
      const [info, hlen] = await Promise.all([ctx.redis.info('memory'), ctx.redis.hlen(QUEUED_EVENTS_KEY)]);
      const used = Number(/used_memory:(\d+)/.exec(info)[1]) / 2 ** 20;
      if (s.redisStartMb === null) s.redisStartMb = used;
      s.redisMaxMb = Math.max(s.redisMaxMb, used);
      s.hlenMax = Math.max(s.hlenMax, hlen);
    } catch {
      // Redis busy or restarting: this sample is skipped
    } finally {
      busy = false;
    }
  };
  void once();
  const timer = setInterval(once, 250);
  return {
    stop: async () => {
      clearInterval(timer);
      await once();
      return s;
    },
  };
}

/**
 * The service's own view of its event loop (GET /metrics, admin token): event-loop delay quantiles and
 * the longest GC pause since the previous scrape. Scraped at a phase's start (opens the window) and end.
 */
async function serviceStalls(ctx) {
  if (!ctx.adminToken) return null;
  try {
    // Prometheus text is not JSON: httpJson hands it back as text.
    const res = await httpJson('GET', `${ctx.base}/metrics`, undefined, ctx.adminToken, 5_000);
    if (res.status !== 200 || typeof res.body !== 'string') return null;
    const text = res.body;
    const get = (name) => {
      const m = new RegExp(`^${name.replace(/[{}."=]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
      return m ? round(Number(m[1]) * 1000, 1) : null;
    };
    return {
      event_loop_delay_ms: {
        p50: get('nodejs_eventloop_delay_seconds{quantile="0.5"}'),
        p99: get('nodejs_eventloop_delay_seconds{quantile="0.99"}'),
        max: get('nodejs_eventloop_delay_seconds{quantile="1"}'),
      },
      gc_max_pause_ms: get('nodejs_gc_max_pause_seconds'),
    };
  } catch {
    return null;
  }
}

async function queueState(redis) {
  const [hlen, wait, active, delayed, failed, paused] = await Promise.all([
    redis.hlen(QUEUED_EVENTS_KEY),
    redis.llen(`${BULL}:wait`),
    redis.llen(`${BULL}:active`),
    redis.zcard(`${BULL}:delayed`),
    redis.zcard(`${BULL}:failed`),
    redis.llen(`${BULL}:paused`),
  ]);
  return { hlen, jobs: wait + active + delayed + paused, failed };
}

async function insertedTuples(pg) {
  const r = await pg.query(
    "SELECT coalesce(sum(n_tup_ins), 0)::bigint AS n FROM pg_stat_user_tables WHERE relname IN ('events', 'rejected_events')",
  );
  return Number(r.rows[0].n);
}

/**
 * Waits until everything queued is stored: queued-events hash and Bull queue empty. Gives up when nothing
 * moves for stallSeconds (no worker, or a stuck one) or after drainTimeout.
 */
async function waitDrain(ctx, tLoadStartMs, { timeoutS = cfg.drainTimeout, stallS = cfg.stallSeconds } = {}) {
  const started = performance.now();
  let lastProgress = performance.now();
  let lastHlen = Infinity;
  let lastIns = await insertedTuples(ctx.pg).catch(() => 0);
  let lastInsCheck = performance.now();
  let hashStuckSince = null;
  for (;;) {
    const q = await queueState(ctx.redis);
    const now = performance.now();
    if (q.hlen === 0 && q.jobs === 0)
      return { drained: true, tDrainMs: now, failedJobs: q.failed, note: null };
    if (q.hlen < lastHlen) lastProgress = now;
    lastHlen = q.hlen;
    if (now - lastInsCheck >= 1000) {
      const ins = await insertedTuples(ctx.pg).catch(() => lastIns);
      if (ins > lastIns) lastProgress = now;
      lastIns = ins;
      lastInsCheck = now;
    }
    if (q.jobs === 0 && q.hlen > 0) {
      hashStuckSince ??= now;
      if (now - hashStuckSince > 5000) {
        return {
          drained: true,
          tDrainMs: hashStuckSince,
          failedJobs: q.failed,
          note: `Bull queue empty but ${q.hlen} ids left in ${QUEUED_EVENTS_KEY}`,
        };
      }
    } else hashStuckSince = null;
    if (now - lastProgress > stallS * 1000) {
      return {
        drained: false,
        tDrainMs: lastProgress,
        failedJobs: q.failed,
        note: `no progress for ${stallS}s (hash ${q.hlen}, jobs ${q.jobs}, failed ${q.failed})`,
      };
    }
    if (now - started > timeoutS * 1000) {
      return {
        drained: false,
        tDrainMs: now,
        failedJobs: q.failed,
        note: `drain timeout ${timeoutS}s (hash ${q.hlen}, jobs ${q.jobs})`,
      };
    }
    await sleep(100);
  }
}

async function truncateTables(pg) {
  await pg.query('TRUNCATE events, sessions, event_counts, rejected_events');
}

async function countRows(pg) {
  const [e, r] = await Promise.all([
    pg.query('SELECT count(*)::bigint AS n FROM events'),
    pg.query('SELECT count(*)::bigint AS n FROM rejected_events'),
  ]);
  return { events: Number(e.rows[0].n), rejected: Number(r.rows[0].n) };
}

// ---------------------------------------------------------------------------------------------- phases
/**
 * One measured phase against the service: load, then (ceiling and rate runs alike) wait for the drain,
 * count rows, truncate.
 */
async function servicePhase(ctx, name, { endpoint, connections, rate }) {
  const segment = endpoint === 'segment-batch';
  const batch = endpoint === 'batch' || segment;
  const p = segment ? '/v1/batch' : batch ? '/v1/events/batch' : '/v1/events';
  const bodyFn = segment ? () => segmentBatchBody() : batch ? () => batchBody() : singleBody;
  const perReq = batch ? cfg.batchSize : 1;
  if (segment && rate) throw new Error('segment-batch is a ceiling phase only');
  const before = await queueState(ctx.redis);
  const cpu0 = {
    svc: ctx.pid ? procCpuSec(ctx.pid) : null,
    procs: cpuSnapshot(ctx.dbName),
    self: process.cpuUsage(),
    machine: machineCpu(),
  };
  const sampler = startSampler(ctx);
  await serviceStalls(ctx);
  const reqRate = rate ? Math.max(1, Math.round(rate / perReq)) : undefined;
  log(
    `${name}: ${rate ? `${rate} events/s offered (${reqRate} req/s, ${cfg.rateTool})` : `${connections} connections`} for ${cfg.seconds}s`,
  );
  const tStart = performance.now();
  const hrStart = hrUs();
  const r =
    rate && cfg.rateTool === 'paced'
      ? await pacedRun({
          base: ctx.base,
          path: p,
          token: ctx.token,
          kind: batch ? 'batch' : 'single',
          rate: reqRate,
          seconds: cfg.seconds,
          traceFile: cfg.trace ? path.join(OUT_DIR, `trace-${name}.csv`) : undefined,
        })
      : rate && cfg.rateTool === 'paced-http'
        ? await pacedHttpRun({
            base: ctx.base,
            path: p,
            token: ctx.token,
            bodyFn,
            rate: reqRate,
            seconds: cfg.seconds,
          })
        : await autocannonRun({
            base: ctx.base,
            path: p,
            token: ctx.token,
            authorization: segment ? ctx.segmentAuth : undefined,
            bodyFn,
            connections: rate ? Math.min(connections, reqRate) : connections,
            seconds: cfg.seconds,
            overallRate: reqRate,
          });
  const tLoadEnd = performance.now();
  const hrEnd = hrUs();
  const stalls = await serviceStalls(ctx);
  const atLoadEnd = await queueState(ctx.redis);
  const drain = await waitDrain(ctx, tStart);
  const mem = await sampler.stop();
  const rows = await countRows(ctx.pg);
  const cpu1 = {
    svc: ctx.pid ? procCpuSec(ctx.pid) : null,
    self: process.cpuUsage(cpu0.self),
    machine: machineCpu(),
  };
  const stores = cpuDelta(cpu0.procs, cpuSnapshot(ctx.dbName));
  const persistSeconds = (drain.tDrainMs - tStart) / 1000;
  const acked = r.ok2xx * perReq;
  const status429 = r.codes['429'] || 0;
  const non2xx = r.requests - r.ok2xx;
  const res = {
    name,
    endpoint: p,
    tool: r.tool,
    connections: rate ? undefined : connections,
    offered_events_per_s: rate || undefined,
    offered_req_per_s: reqRate,
    duration_s: round(r.durationS, 2),
    requests: r.requests,
    status_codes: r.codes,
    non2xx_excluding_429: non2xx - status429,
    status_429: status429,
    errors: r.errors,
    timeouts: r.timeouts,
    error_kinds: r.error_kinds && Object.keys(r.error_kinds).length ? r.error_kinds : undefined,
    acked_req_per_s: round(r.ok2xx / r.durationS),
    acked_events_per_s: round(acked / r.durationS),
    latency_ms: {
      p50: round(r.latency.p50, 2),
      p90: round(r.latency.p90, 2),
      p99: round(r.latency.p99, 2),
      max: round(r.latency.max, 2),
    },
    backlog_at_start: before.hlen,
    backlog_at_load_end: atLoadEnd.hlen,
    backlog_peak: mem.hlenMax,
    drained: drain.drained,
    drain_note: drain.note || undefined,
    drain_s_after_load: round((drain.tDrainMs - tLoadEnd) / 1000, 2),
    rows_stored: rows.events,
    rows_rejected: rows.rejected,
    failed_jobs: drain.failedJobs,
    acked_events: acked,
    // Acked but neither stored nor quarantined: must be 0.
    missing_events: Math.max(0, acked - rows.events - rows.rejected),
    // Stored without an ack: requests autocannon abandoned in flight when the phase ended (at most
    // connections x events per request); more than that would mean duplicates.
    stored_not_acked: Math.max(0, rows.events + rows.rejected - acked),
    // (paced runs wait for every answer: only requests that timed out or failed can be stored unacked.)
    stored_not_acked_bound:
      ((rate && cfg.rateTool.startsWith('paced') ? 0 : rate ? Math.min(connections, reqRate) : connections) +
        r.errors +
        r.timeouts) *
      perReq,
    persisted_events_per_s: round(rows.events / persistSeconds),
    rss_peak_mb: ctx.pid ? round(mem.rssMaxMb, 1) : null,
    redis_used_memory_mb: { start: round(mem.redisStartMb, 1), peak: round(mem.redisMaxMb, 1) },
    cpu_s: {
      service: cpu1.svc !== null && cpu0.svc !== null ? round(cpu1.svc - cpu0.svc, 2) : null,
      postgres: round(stores.postgres, 2),
      redis: round(stores.redis, 2),
      // This process (autocannon, paced-http, sampling) plus the paced child generator, if any.
      load_generator: round((cpu1.self.user + cpu1.self.system) / 1e6 + (r.cpuS || 0), 2),
      machine_total: round(cpu1.machine.busy - cpu0.machine.busy, 2),
      // Included in machine_total: CPU time taken by the hypervisor for other VMs.
      steal:
        cpu1.machine.steal !== null && cpu0.machine.steal !== null
          ? round(cpu1.machine.steal - cpu0.machine.steal, 2)
          : null,
    },
    // Over the load (not the drain): how late the service's event loop ran, its longest GC pause.
    service_event_loop: stalls,
    // Paced runs: how late the generator sent requests (included in the latency, which is measured from
    // the scheduled time).
    generator_send_lag_ms: r.send_lag
      ? { p99: round(r.send_lag.p99, 2), max: round(r.send_lag.max, 2) }
      : undefined,
    window_s: round((drain.tDrainMs - tStart) / 1000, 2),
    window_hr_us: [hrStart, hrEnd],
  };
  // CPU used by everything else on the machine meanwhile (other work sharing the cores): noise indicator.
  res.cpu_s.other = round(
    res.cpu_s.machine_total -
      (res.cpu_s.steal || 0) -
      (res.cpu_s.service || 0) -
      res.cpu_s.postgres -
      res.cpu_s.redis -
      res.cpu_s.load_generator,
    2,
  );
  // All load-generator CPU (this process's sampling included) per request sent: compares the tools.
  res.generator_cpu_us_per_request =
    r.requests > 0 ? round((res.cpu_s.load_generator * 1e6) / r.requests) : null;
  res.service_cpu_us_per_event =
    res.cpu_s.service !== null && rows.events > 0 ? round((res.cpu_s.service * 1e6) / rows.events) : null;
  log(
    `${name}: acked ${res.acked_events_per_s} ev/s (${res.acked_req_per_s} req/s) p50 ${res.latency_ms.p50} ms p99 ${res.latency_ms.p99} ms; ` +
      `stored ${rows.events}/${acked} → ${res.persisted_events_per_s} ev/s${drain.drained ? '' : ' (NOT DRAINED)'}; ` +
      `non2xx ${res.non2xx_excluding_429} 429 ${status429} err ${r.errors}; backlog@end ${atLoadEnd.hlen}; rss ${res.rss_peak_mb} MB` +
      (stalls
        ? `; loop delay p99/max ${stalls.event_loop_delay_ms.p99}/${stalls.event_loop_delay_ms.max} ms, GC max ${stalls.gc_max_pause_ms} ms`
        : '') +
      (res.generator_send_lag_ms
        ? `; generator send lag p99/max ${res.generator_send_lag_ms.p99}/${res.generator_send_lag_ms.max} ms`
        : '') +
      (res.cpu_s.steal !== null ? `; steal ${res.cpu_s.steal} s` : ''),
  );
  if (drain.note) log(`${name}: ${drain.note}`);
  await truncateTables(ctx.pg);
  return res;
}

async function baselinePhase(ctx) {
  const code = `
    const http = require('node:http');
    const reply = '{"id":"00000000-0000-7000-8000-000000000000","status":"queued"}';
    const s = http.createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => { res.writeHead(202, { 'content-type': 'application/json' }); res.end(reply); });
    });
    s.keepAliveTimeout = 65000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = track(
    spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] }),
    'baseline',
  );
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (c) => reject(new Error(`baseline server exited ${c}`)));
  });
  try {
    log(`baseline: bare node:http on :${port}, ${cfg.connections} connections for ${cfg.seconds}s`);
    const cpu0 = procCpuSec(child.pid);
    const r = await autocannonRun({
      base: `http://127.0.0.1:${port}`,
      path: '/v1/events',
      token: ctx.token,
      bodyFn: singleBody,
      connections: cfg.connections,
      seconds: cfg.seconds,
    });
    const cpu = procCpuSec(child.pid) - cpu0;
    const res = {
      name: 'baseline',
      tool: r.tool,
      connections: cfg.connections,
      duration_s: round(r.durationS, 2),
      requests: r.requests,
      acked_req_per_s: round(r.ok2xx / r.durationS),
      latency_ms: { p50: round(r.latency.p50, 2), p99: round(r.latency.p99, 2) },
      non2xx: r.requests - r.ok2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      server_cpu_us_per_request: round((cpu * 1e6) / r.ok2xx, 1),
    };
    log(
      `baseline: ${res.acked_req_per_s} req/s, p99 ${res.latency_ms.p99} ms, ${res.server_cpu_us_per_request} µs CPU/req`,
    );
    return res;
  } finally {
    await stopChild(child, 'SIGTERM', 3000);
  }
}

// ---------------------------------------------------------------------------------------------- service
function build() {
  if (!fs.existsSync(path.join(ROOT, 'src/generated/prisma/client.ts'))) {
    log('src/generated missing: npx prisma generate');
    execFileSync('npx', ['prisma', 'generate'], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  }
  log(`building into ${BUILD_DIR}/ (tsc -p tsconfig.build.json)`);
  fs.rmSync(path.join(ROOT, BUILD_DIR), { recursive: true, force: true });
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 300_000,
  });
}

async function resetStores(redis) {
  // The service creates the database and applies migrations at start; a fresh database each run keeps
  // clients and settings from piling up.
  const { Client } = require('pg');
  const u = new URL(cfg.databaseUrl);
  const dbName = decodeURIComponent(u.pathname.slice(1));
  if (!/^the_eye_bench[a-z0-9_]*$/.test(dbName))
    throw new Error(`refusing to drop database "${dbName}": not a bench database`);
  u.pathname = '/postgres';
  const admin = new Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await redis.flushdb();
}

async function startService(port) {
  const logPath = path.join(OUT_DIR, cfg.profile ? 'service-profile.log' : 'service.log');
  const logFd = fs.openSync(logPath, 'w');
  const serviceEnv = {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: cfg.databaseUrl,
    REDIS_URL: cfg.redisUrl,
    ADMIN_CLIENT_ID: cfg.adminId,
    ADMIN_CLIENT_SECRET: cfg.adminSecret,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    MAX_QUEUE_BACKLOG: String(cfg.maxBacklog),
    ...cfg.serviceEnv,
  };
  for (const k of Object.keys(process.env)) if (k.startsWith('BENCH_')) delete serviceEnv[k];
  // The service runs with the node flags of `npm start` (e.g. its heap cap), as in production.
  const startScript = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  const args = (/^node\s+(.*?)\s*dist\/main\.js/.exec(startScript)?.[1] ?? '').split(/\s+/).filter(Boolean);
  args.push(...cfg.nodeFlags);
  if (cfg.profile) {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    // SIGUSR2 -> process.exit(0): --cpu-prof only writes its file on a normal exit, and Nest's SIGTERM hook
    // re-raises the signal after closing. The data: URL keeps the service code untouched.
    args.push(
      '--cpu-prof',
      `--cpu-prof-dir=${PROFILE_DIR}`,
      '--import',
      'data:text/javascript,process.on("SIGUSR2",()=>process.exit(0))',
    );
  }
  args.push(path.join(BUILD_DIR, 'main.js'));
  const child = track(
    spawn(process.execPath, args, { cwd: ROOT, env: serviceEnv, stdio: ['ignore', logFd, logFd] }),
    'service',
  );
  fs.closeSync(logFd);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`service exited with ${child.exitCode}; see ${logPath}:\n${tail(logPath)}`);
    try {
      const r = await httpJson('GET', `${base}/health`, undefined, undefined, 2000);
      if (r.status === 200) break;
    } catch {
      // not up yet: retry until the deadline
    }
    if (Date.now() > deadline)
      throw new Error(`service not healthy after 120 s; see ${logPath}:\n${tail(logPath)}`);
    await sleep(250);
  }
  return { child, base, logPath };
}
function tail(file, n = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

async function authenticate(base) {
  const admin = await httpJson('POST', `${base}/v1/auth/token`, {
    client_id: cfg.adminId,
    client_secret: cfg.adminSecret,
  });
  if (admin.status !== 200) throw new Error(`admin token: ${admin.status} ${JSON.stringify(admin.body)}`);
  const created = await httpJson(
    'POST',
    `${base}/v1/clients`,
    { name: `bench ${new Date().toISOString()}`, scopes: ['events:write'] },
    admin.body.access_token,
  );
  if (created.status !== 201)
    throw new Error(`register client: ${created.status} ${JSON.stringify(created.body)}`);
  const tok = await httpJson('POST', `${base}/v1/auth/token`, {
    client_id: created.body.client_id,
    client_secret: created.body.client_secret,
  });
  if (tok.status !== 200) throw new Error(`client token: ${tok.status} ${JSON.stringify(tok.body)}`);
  const key = await httpJson(
    'POST',
    `${base}/v1/clients/${created.body.client_id}/write-keys`,
    {},
    admin.body.access_token,
  );
  if (key.status !== 201) throw new Error(`write key: ${key.status} ${JSON.stringify(key.body)}`);
  return {
    token: tok.body.access_token,
    // Segment SDKs send the write key as HTTP Basic user name with an empty password.
    segmentAuth: `Basic ${Buffer.from(`${key.body.write_key}:`).toString('base64')}`,
    clientId: created.body.client_id,
    adminToken: admin.body.access_token,
  };
}

/** One request of each kind, checked by hand before any load: a bench of 400s measures nothing. */
async function sanityCheck(ctx) {
  const one = await httpJson('POST', `${ctx.base}/v1/events`, JSON.parse(singleBody()), ctx.token);
  if (one.status !== 202)
    throw new Error(`POST /v1/events answered ${one.status}: ${JSON.stringify(one.body)}`);
  const many = await httpJson('POST', `${ctx.base}/v1/events/batch`, JSON.parse(batchBody()), ctx.token);
  if (many.status !== 202 || many.body.accepted !== cfg.batchSize) {
    throw new Error(
      `POST /v1/events/batch answered ${many.status}: ${JSON.stringify(many.body).slice(0, 500)}`,
    );
  }
  const seg = await httpJson(
    'POST',
    `${ctx.base}/v1/batch`,
    JSON.parse(segmentBatchBody()),
    undefined,
    undefined,
    {
      authorization: ctx.segmentAuth,
    },
  );
  if (seg.status !== 200 || seg.body.success !== true)
    throw new Error(`POST /v1/batch answered ${seg.status}: ${JSON.stringify(seg.body).slice(0, 500)}`);
}

// ---------------------------------------------------------------------------------------------- profile summary
function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 14);
  if (u.startsWith(ROOT + '/')) return u.slice(ROOT.length + 1);
  return u;
}
function packageOf(url) {
  if (!url) return '(vm)';
  if (url.startsWith('node:')) return 'node: core';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.startsWith(path.join(ROOT, BUILD_DIR) + '/')) {
    const rel = u.slice(path.join(ROOT, BUILD_DIR).length + 1).split('/');
    return `app: ${rel.length > 1 ? rel[0] : rel[0]}`;
  }
  return u;
}
/** Aggregates self time by function+url (and by package), optionally within [fromUs, toUs]. */
function summarizeProfile(file, { window, top = 25 } = {}) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const pkgs = new Map();
  let t = prof.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const dt = i + 1 < prof.timeDeltas.length ? prof.timeDeltas[i + 1] : 0;
    if (window && (t < window[0] || t > window[1])) continue;
    const n = byId.get(prof.samples[i]);
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    const key = `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) || 0) + dt);
    const pk = cf.url ? packageOf(cf.url) : cf.functionName;
    pkgs.set(pk, (pkgs.get(pk) || 0) + dt);
  }
  // Who calls the top self-time functions (a self-time hot spot inside node: core says little alone).
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const keyOf = (cf) =>
    `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  const hot = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k]) => k)
    .filter((k) => !k.startsWith('('));
  const chains = new Map(hot.map((k) => [k, new Map()]));
  {
    let t2 = prof.startTime;
    for (let i = 0; i < prof.samples.length; i++) {
      t2 += prof.timeDeltas[i];
      if (window && (t2 < window[0] || t2 > window[1])) continue;
      const n = byId.get(prof.samples[i]);
      const m = chains.get(keyOf(n.callFrame));
      if (!m) continue;
      const chain = [];
      for (let id = parent.get(n.id), d = 0; id && d < 6; id = parent.get(id), d++) {
        const cf = byId.get(id).callFrame;
        chain.push(
          `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url).split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`,
        );
      }
      const ck = chain.join(' < ');
      m.set(ck, (m.get(ck) || 0) + 1);
    }
  }
  const callers = [...chains.entries()].map(([fn, m]) => ({
    fn,
    chains: [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([c, n]) => ({ samples: n, chain: c })),
  }));
  const fmt = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => ({ self_ms: round(v / 1000, 1), pct: round((100 * v) / total, 1), fn: k }));
  return {
    file: path.relative(ROOT, file),
    window_s: window
      ? round((window[1] - window[0]) / 1e6, 1)
      : round((prof.endTime - prof.startTime) / 1e6, 1),
    busy_ms: round(total / 1000),
    idle_ms: round(idle / 1000),
    top_functions: fmt(self),
    top_packages: fmt(pkgs).slice(0, 15),
    callers,
  };
}
function profileMarkdown(s) {
  const lines = [
    `CPU profile ${s.file}: ${s.window_s}s window, busy ${s.busy_ms} ms, idle ${s.idle_ms} ms`,
    '',
    '| self ms | % busy | function  file:line |',
    '|---:|---:|---|',
    ...s.top_functions.map((r) => `| ${r.self_ms} | ${r.pct} | \`${r.fn.replace(/\|/g, '\\|')}\` |`),
    '',
    '| self ms | % busy | package / area |',
    '|---:|---:|---|',
    ...s.top_packages.map((r) => `| ${r.self_ms} | ${r.pct} | ${r.fn} |`),
    '',
    'Callers of the top functions (innermost first):',
    ...(s.callers || []).flatMap((c) => [
      `- \`${c.fn}\``,
      ...c.chains.map((x) => `  - ${x.samples} samples: ${x.chain}`),
    ]),
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- report
function markdown(result) {
  const b = result.phases.baseline;
  const f = (x, d = 0) =>
    x === null || x === undefined ? '—' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d });
  const rows = [
    '| phase | offered | acked req/s | acked events/s | persisted events/s | ack p50 / p99 ms | vs baseline acked / persisted | non-2xx / 429 / err | backlog@end | RSS MB | Redis MB |',
    '|---|---|---:|---:|---:|---|---:|---|---:|---:|---:|',
  ];
  if (b)
    rows.push(
      `| baseline node:http | ${b.connections} conn | ${f(b.acked_req_per_s)} | — | — | ${f(b.latency_ms.p50, 2)} / ${f(b.latency_ms.p99, 2)} | 1.00 | ${b.non2xx} / 0 / ${b.errors + (b.timeouts || 0)} | — | — | — |`,
    );
  for (const name of ALL_PHASES.slice(1)) {
    const r = result.phases[name];
    if (!r) continue;
    const offered = r.offered_events_per_s ? `${f(r.offered_events_per_s)} ev/s` : `${r.connections} conn`;
    const ratio = b
      ? `${(r.acked_events_per_s / b.acked_req_per_s).toFixed(2)} / ${(r.persisted_events_per_s / b.acked_req_per_s).toFixed(2)}`
      : '—';
    rows.push(
      `| ${name} | ${offered} | ${f(r.acked_req_per_s)} | ${f(r.acked_events_per_s)} | ${f(r.persisted_events_per_s)}${r.drained ? '' : ' (not drained)'} | ` +
        `${f(r.latency_ms.p50, 2)} / ${f(r.latency_ms.p99, 2)} | ${ratio} | ${r.non2xx_excluding_429} / ${r.status_429} / ${r.errors + r.timeouts} | ` +
        `${f(r.backlog_at_load_end)} | ${f(r.rss_peak_mb)} | ${f(r.redis_used_memory_mb.peak, 1)} |`,
    );
  }
  const lines = [
    `${result.date} — \`${result.command}\` — ${result.machine.cpus}× ${result.machine.cpu_model}, Node ${result.machine.node}, commit ${result.git.commit}${result.git.dirty ? ' (dirty)' : ''}`,
    '',
    ...rows,
  ];
  if (result.service_rss_hwm_mb)
    lines.push('', `Service peak RSS (VmHWM, whole run): ${f(result.service_rss_hwm_mb)} MB.`);
  if (result.checks.length)
    lines.push(
      '',
      'Issue 5 targets:',
      ...result.checks.map((c) => `- ${c.ok ? 'PASS' : 'FAIL'} ${c.target}: ${c.value}`),
    );
  lines.push(
    '',
    '"vs baseline" = events/s (acked, persisted) ÷ bare node:http req/s. Persisted = rows / (drain time − load start). ' +
      'Fixed-rate rows: latency measured from the scheduled send time (open loop).',
  );
  const other = Object.values(result.phases)
    .map((r) => (r.cpu_s && r.window_s ? r.cpu_s.other / r.window_s : null))
    .filter((x) => x !== null);
  const steal = Object.values(result.phases)
    .map((r) => (r.cpu_s && r.cpu_s.steal !== null && r.window_s ? r.cpu_s.steal / r.window_s : null))
    .filter((x) => x !== null);
  if (other.length)
    lines.push(
      `Other work on the machine used ${round(Math.min(...other), 2)}–${round(Math.max(...other), 2)} cores during the phases (of ${os.cpus().length})` +
        (steal.length
          ? `; the hypervisor took (steal) ${round(Math.min(...steal), 2)}–${round(Math.max(...steal), 2)} cores.`
          : '.'),
    );
  return lines.join('\n');
}

function targetChecks(phases) {
  const c = [];
  const add = (target, ok, value) => c.push({ target, ok, value });
  const clean = (r) =>
    r.non2xx_excluding_429 === 0 && r.status_429 === 0 && r.errors === 0 && r.timeouts === 0;
  if (phases.batch)
    add(
      'batches of 100 ≥ 20,000 events/s persisted, no errors',
      phases.batch.persisted_events_per_s >= 20000 && clean(phases.batch) && phases.batch.drained,
      `${phases.batch.persisted_events_per_s} ev/s`,
    );
  const seg = phases['segment-batch'];
  if (seg && phases.batch)
    add(
      'segment-batch (POST /v1/batch) ≥ 80 % of batch, events/s persisted, no errors',
      seg.persisted_events_per_s >= 0.8 * phases.batch.persisted_events_per_s && clean(seg) && seg.drained,
      `${seg.persisted_events_per_s} ev/s = ${Math.round((100 * seg.persisted_events_per_s) / (phases.batch.persisted_events_per_s || 1))} % of batch`,
    );
  if (phases.single) {
    const s = phases.single;
    add(
      'single ≥ 2,500 events/s acked and persisted, no errors',
      s.acked_events_per_s >= 2500 && s.persisted_events_per_s >= 2500 && clean(s) && s.drained,
      `${s.acked_events_per_s} acked, ${s.persisted_events_per_s} persisted`,
    );
  }
  for (const [n, lim] of [
    ['rate1k-single', 25],
    ['rate1k-batch', 25],
    ['rate60-single', 50],
    ['rate60-batch', 50],
  ]) {
    const r = phases[n];
    if (r)
      add(
        `${n}: ack p99 ≤ ${lim} ms at ${r.offered_events_per_s} ev/s`,
        r.latency_ms.p99 !== null && r.latency_ms.p99 <= lim && clean(r),
        `p99 ${r.latency_ms.p99} ms`,
      );
  }
  const svc = Object.values(phases).filter((r) => r.name !== 'baseline');
  if (svc.length) {
    const lost = svc.reduce((a, r) => a + r.missing_events, 0);
    const dup = svc.filter((r) => r.stored_not_acked > r.stored_not_acked_bound).map((r) => r.name);
    const undrained = svc.filter((r) => !r.drained).map((r) => r.name);
    add(
      'every acked event stored, no duplicates, queue drained after each phase',
      lost === 0 && dup.length === 0 && undrained.length === 0,
      `${lost} lost${dup.length ? `; extra rows in ${dup.join(', ')}` : ''}${undrained.length ? `; not drained: ${undrained.join(', ')}` : ''}`,
    );
  }
  const rss = Object.values(phases)
    .map((r) => r.rss_peak_mb)
    .filter((x) => x !== null && x !== undefined);
  if (rss.length) add('service RSS < 300 MB', Math.max(...rss) < 300, `${Math.max(...rss)} MB`);
  return c;
}

// ---------------------------------------------------------------------------------------------- main
async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--profile-summary') {
    const s = summarizeProfile(path.resolve(argv[1]), { top: Number(argv[2] || 30) });
    console.log(profileMarkdown(s));
    return;
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const overall = setTimeout(
    () => {
      log('overall time limit reached: stopping');
      cleanup().finally(() => process.exit(2));
    },
    (600 + cfg.phases.length * (cfg.seconds + cfg.drainTimeout + 30) + 2 * cfg.warmupSeconds) * 1000,
  );
  overall.unref();

  const Redis = require('ioredis');
  const { Client } = require('pg');
  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  await redis.connect();

  let service;
  let base = cfg.url;
  let pid = cfg.servicePid;
  if (!base) {
    if (!cfg.skipBuild) build();
    await resetStores(redis);
    const port = await freePort();
    log(`starting the service on 127.0.0.1:${port}${cfg.profile ? ' under --cpu-prof' : ''}`);
    service = await startService(port);
    base = service.base;
    pid = service.child.pid;
  } else if (!cfg.adminSecret)
    throw new Error('BENCH_URL needs BENCH_ADMIN_SECRET (and BENCH_ADMIN_ID unless bench-admin)');
  const hrProfileStart = hrUs();

  const pg = new Client({ connectionString: cfg.databaseUrl, statement_timeout: 60_000 });
  await pg.connect();
  const ctx = {
    base,
    pid,
    redis,
    pg,
    token: undefined,
    dbName: decodeURIComponent(new URL(cfg.databaseUrl).pathname.slice(1)),
  };
  const result = {
    date: new Date().toISOString(),
    command: `${Object.entries(process.env)
      .filter(([k]) => k.startsWith('BENCH_'))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} npm run bench`.trim(),
    config: { ...cfg, adminSecret: undefined, serviceEnv: cfg.serviceEnv },
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model,
      node: process.version,
      loadavg_at_start: os.loadavg().map((x) => round(x, 2)),
    },
    git: gitInfo(),
    target: cfg.url ? cfg.url : 'spawned dist-bench/main.js',
    phases: {},
    checks: [],
  };
  try {
    const auth = await authenticate(base);
    ctx.token = auth.token;
    ctx.adminToken = auth.adminToken;
    ctx.segmentAuth = auth.segmentAuth;
    await sanityCheck(ctx);
    log('auth and sanity requests OK');

    if (cfg.warmupSeconds > 0 && cfg.phases.some((p) => p !== 'baseline')) {
      log(`warm-up ${cfg.warmupSeconds}s single + ${cfg.warmupSeconds}s batch`);
      await autocannonRun({
        base,
        path: '/v1/events',
        token: ctx.token,
        bodyFn: singleBody,
        connections: cfg.connections,
        seconds: cfg.warmupSeconds,
      });
      await autocannonRun({
        base,
        path: '/v1/events/batch',
        token: ctx.token,
        bodyFn: () => batchBody(),
        connections: cfg.batchConnections,
        seconds: cfg.warmupSeconds,
      });
      const d = await waitDrain(ctx, performance.now());
      if (!d.drained) log(`warm-up: ${d.note} — is the worker running? persistence figures will be wrong`);
      await truncateTables(pg);
    }

    for (const phase of cfg.phases) {
      const ph = result.phases;
      if (phase === 'baseline') ph.baseline = await baselinePhase(ctx);
      else if (phase === 'single')
        ph.single = await servicePhase(ctx, phase, { endpoint: 'single', connections: cfg.connections });
      else if (phase === 'batch')
        ph.batch = await servicePhase(ctx, phase, { endpoint: 'batch', connections: cfg.batchConnections });
      else if (phase === 'segment-batch')
        ph[phase] = await servicePhase(ctx, phase, {
          endpoint: 'segment-batch',
          connections: cfg.batchConnections,
        });
      else if (phase === 'rate1k-single')
        ph[phase] = await servicePhase(ctx, phase, {
          endpoint: 'single',
          connections: cfg.connections,
          rate: 1000,
        });
      else if (phase === 'rate1k-batch')
        ph[phase] = await servicePhase(ctx, phase, {
          endpoint: 'batch',
          connections: cfg.batchConnections,
          rate: 1000,
        });
      else {
        // 60 % of the sustainable ceiling: the lower of acked and persisted events/s of the ceiling run.
        const ceil = ph[phase === 'rate60-single' ? 'single' : 'batch'];
        const fixed = phase === 'rate60-single' ? cfg.rate60Single : cfg.rate60Batch;
        if (fixed) {
          // A given rate (A/B comparisons at the same offered load): no ceiling phase needed.
          ph[phase] = await servicePhase(ctx, phase, {
            endpoint: phase.endsWith('batch') ? 'batch' : 'single',
            connections: phase.endsWith('batch') ? cfg.batchConnections : cfg.connections,
            rate: fixed,
          });
          continue;
        }
        if (!ceil) {
          log(`${phase}: skipped (needs the ${phase === 'rate60-single' ? 'single' : 'batch'} phase first)`);
          continue;
        }
        const sustainable = Math.min(
          ceil.acked_events_per_s,
          ceil.persisted_events_per_s || ceil.acked_events_per_s,
        );
        const rate = Math.max(
          1,
          Math.round((0.6 * sustainable) / (ceil.endpoint.endsWith('batch') ? cfg.batchSize : 1)) *
            (ceil.endpoint.endsWith('batch') ? cfg.batchSize : 1),
        );
        ph[phase] = await servicePhase(ctx, phase, {
          endpoint: phase.endsWith('batch') ? 'batch' : 'single',
          connections: phase.endsWith('batch') ? cfg.batchConnections : cfg.connections,
          rate,
        });
        ph[phase].ceiling_events_per_s = sustainable;
      }
    }
    const b = result.phases.baseline;
    for (const [n, r] of Object.entries(result.phases)) {
      if (n === 'baseline' || !b) continue;
      r.vs_baseline = {
        acked_req: round(r.acked_req_per_s / b.acked_req_per_s, 3),
        acked_events: round(r.acked_events_per_s / b.acked_req_per_s, 3),
        persisted_events: round(r.persisted_events_per_s / b.acked_req_per_s, 3),
      };
    }
    if (pid) result.service_rss_hwm_mb = round(procMem(pid)?.hwmMb, 1);
    result.checks = targetChecks(result.phases);
  } finally {
    const hrProfileEnd = hrUs();
    await pg.end().catch(() => undefined);
    await redis.quit().catch(() => undefined);
    if (service) {
      if (cfg.profile) {
        const beforeFiles = new Set(fs.existsSync(PROFILE_DIR) ? fs.readdirSync(PROFILE_DIR) : []);
        await stopChild(service.child, 'SIGUSR2', 60_000);
        const files = fs
          .readdirSync(PROFILE_DIR)
          .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${service.child.pid}.`));
        if (files.length) {
          const file = path.join(PROFILE_DIR, files[0]);
          const ranges = Object.values(result.phases)
            .filter((r) => r.window_hr_us)
            .map((r) => r.window_hr_us);
          const window = ranges.length
            ? [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))]
            : [hrProfileStart, hrProfileEnd];
          try {
            result.profile = summarizeProfile(file, { window });
            log(`profile: ${path.relative(ROOT, file)}`);
          } catch (err) {
            log(`profile summary failed: ${err.message}`);
          }
        } else log('no .cpuprofile written');
        void beforeFiles;
      } else await stopChild(service.child, 'SIGTERM', 20_000);
    }
    await cleanup();
  }
  for (const r of Object.values(result.phases)) delete r.window_hr_us;
  const stem = cfg.profile ? 'profile-latest' : 'latest';
  let md = markdown(result);
  if (result.profile) md += `\n\n${profileMarkdown(result.profile)}`;
  fs.writeFileSync(path.join(OUT_DIR, `${stem}.json`), JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(path.join(OUT_DIR, `${stem}.md`), md + '\n');
  console.log(md);
  log(`wrote bench/results/${stem}.json and bench/results/${stem}.md`);
}

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, timeout: 10_000 })
      .toString()
      .trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, timeout: 10_000 })
        .toString()
        .trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: null };
  }
}

main().then(
  () => process.exit(0),
  async (err) => {
    log(`failed: ${err && err.stack ? err.stack : err}`);
    await cleanup();
    process.exit(1);
  },
);
