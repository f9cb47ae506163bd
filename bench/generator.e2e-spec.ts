// The benchmark's paced load generator (bench/paced.ts) against a real local HTTP server:
// its latencies back the issue 5 figures, so its counting and its response parsing are tested here.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TSX_IMPORT } from './lib/service';

interface PacedResult {
  requests: number;
  ok2xx: number;
  codes: Record<string, number>;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number; max: number };
  send_lag: { p99: number; max: number };
  cpuS: number;
}

const GENERATOR = join(__dirname, 'paced.ts');

function runGenerator(options: Record<string, unknown>): Promise<PacedResult> {
  return new Promise((resolve, reject) => {
    // As bench/load.ts starts it: a child node process loading TypeScript through tsx.
    const child = fork(GENERATOR, { stdio: 'inherit', execArgv: ['--import', TSX_IMPORT] });
    child.once('message', (m) => resolve(m as PacedResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`generator exited with ${code}`)));
    child.send(options);
  });
}

describe('bench paced generator (bench/paced.ts)', () => {
  let server: Server;
  let port: number;
  const seen: { path: string; auth?: string; body: unknown }[] = [];

  beforeAll(async () => {
    let n = 0;
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/never') return; // never answered: the generator must time it out
        seen.push({
          path: req.url ?? '',
          auth: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        });
        const i = n++;
        const payload = JSON.stringify({ i, status: 'queued' });
        if (i % 7 === 3) {
          // No Content-Length: Node answers with Transfer-Encoding: chunked.
          res.writeHead(202, { 'content-type': 'application/json' });
          res.write(payload.slice(0, 5));
          res.end(payload.slice(5));
        } else if (i % 5 === 4) {
          res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
          res.end(payload);
        } else {
          // Some answers close their connection: the generator must open another one.
          res.writeHead(202, {
            'content-type': 'application/json',
            ...(i % 11 === 6 ? { connection: 'close' } : {}),
          });
          res.end(payload);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('sends rate × seconds requests, evenly, and counts every answer by status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paced-'));
    const traceFile = join(dir, 'trace.csv');
    const r = await runGenerator({
      host: '127.0.0.1',
      port,
      path: '/v1/events',
      token: 'tok',
      kind: 'single',
      ids: true,
      rate: 200,
      seconds: 1,
      traceFile,
    });
    expect(r.requests).toBe(200);
    expect(seen).toHaveLength(200);
    expect(r.errors).toBe(0);
    expect(r.timeouts).toBe(0);
    // What the server answered, as the generator counted it: 429 for i % 5 == 4 unless chunked.
    const expected429 = Array.from({ length: 200 }, (_, i) => i).filter(
      (i) => i % 7 !== 3 && i % 5 === 4,
    ).length;
    expect(r.codes).toEqual({ '202': 200 - expected429, '429': expected429 });
    expect(r.ok2xx).toBe(200 - expected429);
    expect(r.latency.p50).toBeGreaterThan(0);
    expect(r.latency.max).toBeGreaterThanOrEqual(r.latency.p99);
    expect(r.cpuS).toBeGreaterThan(0);
    // Every request is an event as the service expects it, with the bearer token.
    for (const s of seen) {
      expect(s.path).toBe('/v1/events');
      expect(s.auth).toBe('Bearer tok');
      expect(s.body).toMatchObject({ category: 'page interaction', name: 'pageview', data: { path: '/' } });
      expect((s.body as { id: string }).id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
    // The trace has one line per answer; scheduled times are 5 ms apart (open loop at 200/s).
    const lines = readFileSync(traceFile, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('scheduled_ms,latency_ms,status');
    const scheduled = lines
      .slice(1)
      .map((l) => Number(l.split(',')[0]))
      .sort((a, b) => a - b);
    expect(scheduled).toHaveLength(200);
    expect(scheduled[199] - scheduled[0]).toBeCloseTo(995, 0);
  });

  it('sends batches of the given size', async () => {
    const r = await runGenerator({
      host: '127.0.0.1',
      port,
      path: '/v1/events/batch',
      kind: 'batch',
      batchSize: 7,
      ids: false,
      rate: 20,
      seconds: 0.5,
    });
    expect(r.requests).toBe(10);
    expect(seen).toHaveLength(10);
    for (const s of seen) {
      const events = (s.body as { events: Record<string, unknown>[] }).events;
      expect(events).toHaveLength(7);
      expect(events[0].id).toBeUndefined();
      expect(s.auth).toBeUndefined();
    }
  });

  it('counts requests left unanswered past the timeout as timeouts, not answers', async () => {
    const r = await runGenerator({
      host: '127.0.0.1',
      port,
      path: '/never',
      kind: 'single',
      rate: 20,
      seconds: 0.25,
      timeoutMs: 300,
    });
    expect(r.timeouts).toBe(5);
    expect(r.requests).toBe(0);
    expect(r.errors).toBe(0);
  });
});
