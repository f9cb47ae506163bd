/**
 * Open-loop constant-rate load generator of the benchmark, run by bench/bench.ts as a child process
 * (`fork`, with tsx's loader): it gets its options as one IPC message and answers one result message.
 *
 * Requests are evenly spaced at `rate` per second whatever the server does, and latency is measured
 * from each request's *scheduled* send time, so a server that falls behind shows its queueing in p99.
 *
 * It shares the machine's two cores with the service, PostgreSQL and Redis, so its own overhead is part
 * of every latency it reports. Hence a process of its own (the parent's Redis polling and /proc sampling
 * cannot delay it) and a lean HTTP/1.1 client on raw keep-alive sockets: each request is one write of
 * prebuilt headers + body, each response is matched by its Content-Length (or its last chunk).
 * Measured against Node's http client in the parent (BENCH_RATE_TOOL=paced-http, issue 5): ~19 vs
 * ~46 µs of CPU per extra request; at 1,000 single events/s that client's p99 was 19.9 ms while the
 * service's own handling of the same requests had a p99 of 7.2 ms.
 *
 * Options: { host, port, path, token, kind: 'single'|'batch', batchSize, ids, rate (req/s), seconds,
 * timeoutMs, maxSockets, traceFile }. Result: { requests, ok2xx, codes, errors, error_kinds, timeouts,
 * latency: {p50,p90,p99,max}, send_lag: {p99,max} } (ms), cpuS (CPU seconds this process used).
 */
import { writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pace, summarize, type PacedSummary } from './pace';
import { makePayloads } from './payloads';

export interface PacedOptions {
  host: string;
  port: number;
  path: string;
  token?: string;
  kind: 'single' | 'batch';
  batchSize?: number;
  ids?: boolean;
  /** Requests per second. */
  rate: number;
  seconds: number;
  timeoutMs?: number;
  maxSockets?: number;
  traceFile?: string;
}

export type PacedResult = PacedSummary & { cpuS: number };

interface Pending {
  scheduled: number;
  body: string;
  timedOut: boolean;
}

/** A keep-alive socket with the request it carries and the response bytes received so far. */
type Conn = Socket & { current: Pending | undefined; buf: Buffer | null };

const HEADER_END = Buffer.from('\r\n\r\n');

function run(o: PacedOptions): Promise<PacedResult> {
  const { singleBody, batchBody } = makePayloads({ ids: o.ids, batchSize: o.batchSize });
  const bodyFn = o.kind === 'batch' ? () => batchBody() : singleBody;
  const head =
    `POST ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nContent-Type: application/json\r\n` +
    (o.token ? `Authorization: Bearer ${o.token}\r\n` : '') +
    'Content-Length: ';
  const timeoutMs = o.timeoutMs ?? 10_000;
  const maxSockets = o.maxSockets ?? 512;
  const lat: number[] = [];
  /** `o.traceFile`: every answered request as "scheduled epoch ms,latency ms,status" lines. */
  const trace = o.traceFile ? ['scheduled_ms,latency_ms,status'] : null;
  // How late the generator itself sent each request: part of every latency it reports.
  const sendLag: number[] = [];
  const codes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let inflight = 0;
  let loadDone = false;
  const idle: Conn[] = [];
  const open = new Set<Conn>();
  /** Requests scheduled while every socket was busy and maxSockets were open. */
  const queued: Pending[] = [];

  return new Promise((resolve) => {
    const finish = () => {
      if (!loadDone || inflight > 0) return;
      clearInterval(sweeper);
      for (const s of open) s.destroy();
      if (trace && o.traceFile) writeFileSync(o.traceFile, trace.join('\n') + '\n');
      const cpu = process.cpuUsage();
      resolve({
        ...summarize({ lat, sendLag, codes, errors, errorKinds, timeouts }),
        cpuS: (cpu.user + cpu.system) / 1e6,
      });
    };

    /** Ends the request on `s` (if any) as an error or a timeout; the socket is not reused. */
    const fail = (s: Conn, err?: Error & { code?: string }): void => {
      open.delete(s);
      const i = idle.indexOf(s);
      if (i >= 0) idle.splice(i, 1);
      const r = s.current;
      s.current = undefined;
      if (r) {
        inflight--;
        if (r.timedOut) timeouts++;
        else {
          errors++;
          const kind = err?.code || err?.message || 'closed';
          errorKinds[kind] = (errorKinds[kind] || 0) + 1;
        }
      }
      pump();
      finish();
    };

    const connect = (): Conn => {
      const s = netConnect({ host: o.host, port: o.port, noDelay: true }) as Conn;
      open.add(s);
      s.current = undefined;
      s.buf = null;
      s.on('data', (chunk: Buffer) => onData(s, chunk));
      s.on('error', (err) => fail(s, err));
      s.on('close', () => open.has(s) && fail(s, new Error('closed by server')));
      return s;
    };

    const send = (s: Conn, r: Pending): void => {
      s.current = r;
      s.buf = null;
      const body = r.body;
      s.write(`${head}${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };

    /** Gives waiting requests the idle sockets, or new ones while fewer than maxSockets are open. */
    const pump = (): void => {
      while (queued.length) {
        if (idle.length) send(idle.pop()!, queued.shift()!);
        else if (open.size < maxSockets) send(connect(), queued.shift()!);
        else break;
      }
    };

    const onData = (s: Conn, chunk: Buffer): void => {
      const r = s.current;
      if (!r) return fail(s, new Error('unexpected data'));
      s.buf = s.buf ? Buffer.concat([s.buf, chunk]) : chunk;
      const buf = s.buf;
      const headerEnd = buf.indexOf(HEADER_END);
      if (headerEnd < 0) return;
      const headers = buf.toString('latin1', 0, headerEnd);
      const status = Number(headers.slice(9, 12));
      const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
      let complete: boolean;
      if (lengthMatch) complete = buf.length >= headerEnd + 4 + Number(lengthMatch[1]);
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(headers))
        complete = buf.length >= headerEnd + 9 && buf.toString('latin1', buf.length - 5) === '0\r\n\r\n';
      else return fail(s, new Error('response without length'));
      if (!complete) return;
      const latency = performance.now() - r.scheduled;
      lat.push(latency);
      if (trace)
        trace.push(`${(performance.timeOrigin + r.scheduled).toFixed(1)},${latency.toFixed(2)},${status}`);
      codes[status] = (codes[status] || 0) + 1;
      inflight--;
      s.current = undefined;
      s.buf = null;
      if (/\r\nconnection:\s*close/i.test(headers)) {
        open.delete(s);
        s.destroy();
      } else idle.push(s);
      pump();
      finish();
    };

    // Requests not answered within timeoutMs of their scheduled time are abandoned (counted as
    // timeouts), including those still waiting for a socket: a phase ends at most timeoutMs after its load.
    const sweeper = setInterval(() => {
      const limit = performance.now() - timeoutMs;
      while (queued.length && queued[0].scheduled <= limit) {
        queued.shift();
        inflight--;
        timeouts++;
      }
      for (const s of open) {
        if (s.current && s.current.scheduled <= limit) {
          s.current.timedOut = true;
          s.destroy();
          fail(s);
        }
      }
      finish();
    }, 100);

    const fire = (scheduled: number): void => {
      sendLag.push(performance.now() - scheduled);
      inflight++;
      queued.push({ scheduled, body: bodyFn(), timedOut: false });
      pump();
    };

    pace(
      o.rate,
      o.seconds,
      fire,
      () => {
        loadDone = true;
        finish();
      },
      () => stopRequested,
    );
  });
}

/** A "stop" message after the options ends the load before `seconds` (the requests in flight finish). */
let stopRequested = false;
process.on('message', (m: unknown) => {
  if (m === 'stop') stopRequested = true;
});

process.once('message', (options: PacedOptions) => {
  void run(options).then((result) => process.send!(result, undefined, undefined, () => process.exit(0)));
});
