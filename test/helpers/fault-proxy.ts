import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does with one request:
 * - `pass`: forward it and relay the answer;
 * - `drop`: close the connection without forwarding (the server never sees it);
 * - `cut`: forward it, wait for the server's whole answer (so the server HAS processed it), then
 *   send the status line and half the body and close the connection;
 * - `{ delayMs }`: wait, then forward (longer than the client's timeout: the server processes a
 *   request the client has already given up on);
 * - `{ status, retryAfter? }`: answer that status itself (503, 429…) without forwarding.
 */
export type Fault = 'pass' | 'drop' | 'cut' | { delayMs: number } | { status: number; retryAfter?: string };

export interface ProxiedRequest {
  method: string;
  path: string;
}

/** Decides the fate of the n-th request (counted from 0 over all requests). */
export type FaultPlan = (req: ProxiedRequest, n: number) => Fault;

function faultName(f: Fault): string {
  if (typeof f === 'string') return f;
  return 'delayMs' in f ? 'delay' : `status ${f.status}`;
}

/** A fault-injecting HTTP proxy in front of a real server, for clients' retry tests. */
export class FaultProxy {
  /** How often each fault was applied, e.g. { pass: 12, drop: 3, 'status 503': 2 }. */
  readonly applied: Record<string, number> = {};
  private n = 0;
  private outstanding = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    private readonly plan: FaultPlan,
  ) {}

  static async start(target: string, plan: FaultPlan): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(target), plan);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void proxy.handle(req, res));
    server.on('connection', (s: Socket) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves when no forwarded request is still on its way (delayed ones included). */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    await this.idle();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = this.plan({ method: req.method ?? 'GET', path: req.url ?? '/' }, this.n++);
    const name = faultName(fault);
    this.applied[name] = (this.applied[name] ?? 0) + 1;
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (typeof fault === 'object' && 'status' in fault) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      res.end(JSON.stringify({ code: 'injected', message: `fault proxy answered ${fault.status}` }));
      return;
    }
    this.outstanding++;
    try {
      if (typeof fault === 'object') await new Promise((r) => setTimeout(r, fault.delayMs));
      const answer = await this.forward(req, body);
      if (req.socket.destroyed) return; // the client gave up meanwhile
      if (fault === 'cut') {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        setImmediate(() => req.socket.destroy());
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      req.socket.destroy();
    } finally {
      if (--this.outstanding === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.target.host, 'content-length': String(body.length) };
      delete headers.connection;
      const upstream = request(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.agent,
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(up.headers)) {
              if (v !== undefined && k !== 'connection' && k !== 'transfer-encoding' && k !== 'keep-alive') {
                out[k] = Array.isArray(v) ? v.join(', ') : v;
              }
            }
            resolve({ status: up.statusCode ?? 502, headers: out, body: Buffer.concat(parts) });
          });
          up.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}

/** A small seeded PRNG (mulberry32), so a failing fault sequence can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
