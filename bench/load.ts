// The load generators of the benchmark's phases: autocannon (closed loop, ceilings), the paced child
// process (open loop, fixed rates; bench/paced.ts) and the same open loop from this process
// (BENCH_RATE_TOOL=paced-http).
import { fork } from 'node:child_process';
import { Agent, request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cfg } from './config';
import { TSX_IMPORT, track } from './lib/service';
import { pace, summarize, type PacedSummary } from './pace';
import type { PacedOptions, PacedResult } from './paced';

/** What every generator reports (latencies in ms). */
export interface LoadResult {
  tool: string;
  durationS: number;
  requests: number;
  ok2xx: number;
  codes: Record<string, number>;
  errors: number;
  error_kinds?: Record<string, number>;
  timeouts: number;
  latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  send_lag?: { p99: number | null; max: number | null };
  /** CPU seconds of the paced child generator. */
  cpuS?: number;
}

interface ClosedLoop {
  base: string;
  path: string;
  token?: string;
  authorization?: string;
  bodyFn: () => string;
  connections: number;
  seconds: number;
  overallRate?: number;
}

export function autocannonRun(o: ClosedLoop): Promise<LoadResult> {
  const u = new URL(o.base);
  const { token, authorization, bodyFn, overallRate } = o;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${u.origin}${o.path}`,
        connections: o.connections,
        duration: o.seconds,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization ? { authorization } : token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: bodyFn(),
        requests: [
          {
            method: 'POST',
            path: o.path,
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

interface OpenLoop {
  base: string;
  path: string;
  token?: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
}

/**
 * Open-loop constant-rate load from bench/paced.ts, a child process with a lean raw-socket HTTP
 * client (see there). Its result includes `cpuS`, the CPU seconds it used.
 */
export function pacedRun(
  o: OpenLoop & {
    kind: 'single' | 'batch';
    traceFile?: string;
    /** Gets a `stop` that ends the load early (the generator still waits for the requests in flight). */
    control?: { stop?: () => void };
  },
): Promise<LoadResult> {
  const u = new URL(o.base);
  return new Promise((resolve, reject) => {
    const child = track(
      fork(join(__dirname, 'paced.ts'), { stdio: 'inherit', execArgv: ['--import', TSX_IMPORT] }),
    );
    let result: PacedResult | undefined;
    child.once('message', (m: PacedResult) => (result = m));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!result) return reject(new Error(`the paced generator exited with ${code} and no result`));
      resolve({ tool: 'paced', durationS: o.seconds, ...result });
    });
    const options: PacedOptions = {
      host: u.hostname,
      port: Number(u.port),
      path: o.path,
      token: o.token,
      kind: o.kind,
      batchSize: cfg.batchSize,
      ids: cfg.ids,
      rate: o.rate,
      seconds: o.seconds,
      traceFile: o.traceFile,
    };
    child.send(options);
    if (o.control) o.control.stop = () => child.connected && child.send('stop');
  });
}

/**
 * The same open-loop load from this process with Node's http client (`BENCH_RATE_TOOL=paced-http`), the
 * generator of the first two sessions: kept to compare generators. It costs ~2.4 times the CPU per
 * request of the child's client and shares this process's event loop with the sampling; both show in
 * the latencies it reports (see bench/paced.ts).
 */
export function pacedHttpRun(
  o: OpenLoop & { bodyFn: () => string; timeoutMs?: number },
): Promise<LoadResult> {
  const { bodyFn, rate, seconds, timeoutMs = 10_000 } = o;
  const u = new URL(o.base);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const headers = {
    'content-type': 'application/json',
    ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
  };
  const lat: number[] = [];
  // How late the generator itself sent each request (it shares the cores too): part of every latency.
  const sendLag: number[] = [];
  const codes: Record<string, number> = {};
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  let timeouts = 0;
  let inflight = 0;
  let loadDone = false;
  // Requests not answered within timeoutMs of their *scheduled* time are abandoned (counted as timeouts),
  // including those still waiting for a socket: the phase ends at most timeoutMs after the load.
  const pending = new Set<{ req: ClientRequest | undefined; scheduled: number; timedOut: boolean }>();
  return new Promise((resolve) => {
    const sweeper = setInterval(() => {
      const limit = performance.now() - timeoutMs;
      for (const pr of pending) {
        if (pr.scheduled > limit) continue;
        pr.timedOut = true;
        pr.req?.destroy(new Error('timeout'));
      }
    }, 100);
    const finish = (): void => {
      if (!loadDone || inflight > 0) return;
      clearInterval(sweeper);
      agent.destroy();
      const summary: PacedSummary = summarize({ lat, sendLag, codes, errors, errorKinds, timeouts });
      resolve({ tool: 'paced-http', durationS: seconds, ...summary });
    };
    const fire = (scheduled: number): void => {
      sendLag.push(performance.now() - scheduled);
      const body = bodyFn();
      inflight++;
      let settled = false;
      const pr = { req: undefined as ClientRequest | undefined, scheduled, timedOut: false };
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        inflight--;
        pending.delete(pr);
        return true;
      };
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: o.path,
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
            const status = String(res.statusCode);
            codes[status] = (codes[status] || 0) + 1;
            finish();
          });
        },
      );
      pr.req = req;
      pending.add(pr);
      req.on('error', (err: Error & { code?: string }) => {
        if (!settle()) return;
        if (pr.timedOut) timeouts++;
        else {
          errors++;
          const kind = err.code || err.message;
          errorKinds[kind] = (errorKinds[kind] || 0) + 1;
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
