import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { BatchDto, EventDto } from '../src/wire/openapi';

export interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
  at: number;
}

/** What a scripted route answers: a status and body, 'hang' (never answer) or 'destroy' (drop the socket). */
export type Reply =
  { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number } | 'hang' | 'destroy';

type Handler = (req: Recorded, n: number) => Reply | undefined;

/**
 * A stand-in for The Eye's token and batch routes: records every request; scripted handlers can
 * override answers per request (`n` counts requests to that route from 0). By default tokens are
 * `token-1`, `token-2`, … valid 3600 s, and batches are answered 202 with every event queued.
 */
export class FakeEye {
  readonly requests: Recorded[] = [];
  /** Event ids answered 202, once per arrival (duplicates show retries). */
  readonly received: string[] = [];
  onToken: Handler = () => undefined;
  onBatch: Handler = () => undefined;
  tokenLifetimeS = 3600;
  private tokens = 0;
  private sockets = new Set<Socket>();
  private counts = { token: 0, batch: 0 };

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeEye> {
    const server = createServer((req, res) => void eye.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const eye = new FakeEye(server, `http://127.0.0.1:${port}`);
    server.on('connection', (s: Socket) => {
      eye.sockets.add(s);
      s.on('close', () => eye.sockets.delete(s));
    });
    return eye;
  }

  batches(): Recorded[] {
    return this.requests.filter((r) => r.path === '/v1/events/batch');
  }

  tokenRequests(): Recorded[] {
    return this.requests.filter((r) => r.path === '/v1/auth/token');
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: Recorded = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      body: Buffer.concat(chunks).toString(),
      at: Date.now(),
    };
    this.requests.push(rec);
    let reply: Reply;
    if (rec.path === '/v1/auth/token') {
      reply = this.onToken(rec, this.counts.token++) ?? {
        status: 200,
        body: {
          access_token: `token-${++this.tokens}`,
          token_type: 'Bearer',
          expires_in: this.tokenLifetimeS,
        },
      };
    } else if (rec.path === '/v1/events/batch') {
      reply = this.onBatch(rec, this.counts.batch++) ?? this.accept(rec);
    } else {
      reply = { status: 404, body: { code: 'not_found', message: 'no such route' } };
    }
    if (reply === 'hang') return;
    if (reply === 'destroy') {
      req.socket.destroy();
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  /** The server's 202 answer (every event queued), sent after `delayMs`. */
  accept(rec: Recorded, delayMs = 0): Reply {
    const { events } = JSON.parse(rec.body) as { events: { id: string }[] };
    for (const e of events) this.received.push(e.id);
    return {
      status: 202,
      delayMs,
      body: {
        accepted: events.length,
        rejected: 0,
        results: events.map((e, index) => ({ index, id: e.id, status: 'queued' })),
      },
    };
  }
}

export function batchIds(rec: Recorded): string[] {
  return (JSON.parse(rec.body) as BatchDto).events.map((e) => e.id!);
}

export function event(i = 0): Omit<EventDto, 'timestamp'> {
  return {
    session_id: `s-${i}`,
    category: 'page interaction',
    name: 'pageview',
    data: { host: 'h', path: `/${i}` },
  };
}
