// @the-eye/client against the real service, through a proxy that loses, cuts, delays and refuses
// requests: every tracked event must be stored exactly once.
import { randomUUID } from 'node:crypto';
import { EyeClient, type EyeError, type RejectedEvent } from '../packages/client/src';
import { registerClient, startApp, type TestApp, type TestClient } from './helpers/app';
import { waitProcessed, withDb } from './helpers/db';
import { type Fault, FaultProxy, seededRandom } from './helpers/fault-proxy';

describe('@the-eye/client against the real service (e2e)', () => {
  let t: TestApp;
  let writer: TestClient;

  beforeAll(async () => {
    t = await startApp();
    writer = await registerClient(t.url, ['events:write'], 'client e2e writer');
  });
  afterAll(() => t.close());

  function newClient(baseUrl: string, extra: Partial<ConstructorParameters<typeof EyeClient>[0]> = {}) {
    const client = new EyeClient({
      baseUrl,
      clientId: writer.clientId,
      clientSecret: writer.secret,
      flushAt: 50,
      flushIntervalMs: 100,
      timeoutMs: 1_000,
      minBackoffMs: 20,
      maxBackoffMs: 200,
      maxRetries: 100,
      ...extra,
    });
    const errors: EyeError[] = [];
    const rejected: RejectedEvent[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('rejected', (r) => rejected.push(r));
    return { client, errors, rejected };
  }

  const trackN = (client: EyeClient, n: number, name: string): string[] => {
    const session = randomUUID();
    return Array.from({ length: n }, (_, i) =>
      client.track({ session_id: session, category: 'client e2e', name, data: { i } }),
    );
  };

  async function storedIds(name: string): Promise<string[]> {
    return withDb(async (db) => {
      const res = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM events WHERE client_id = $1 AND category = 'client e2e' AND name = $2`,
        [writer.clientId, name],
      );
      return res.rows.map((r) => r.id);
    });
  }

  it('stores N tracked events exactly once (no proxy)', async () => {
    const { client, errors, rejected } = newClient(t.url);
    const ids = trackN(client, 500, 'plain');
    await client.close();
    await waitProcessed(ids);
    expect(errors).toEqual([]);
    expect(rejected).toEqual([]);
    const stored = await storedIds('plain');
    expect(stored).toHaveLength(500);
    expect(new Set(stored)).toEqual(new Set(ids));
  });

  it('stores N events exactly once through dropped, cut, delayed and refused requests', async () => {
    const random = seededRandom(13);
    // Every kind of fault early (including on the token request), then 40% of requests faulty.
    const opening: Fault[] = [
      'drop',
      'pass',
      'cut',
      { status: 503, retryAfter: '1' },
      { delayMs: 1_500 },
      { status: 429, retryAfter: '1' },
      'cut',
      { status: 502 },
      'drop',
    ];
    const proxy = await FaultProxy.start(t.url, (_req, n) => {
      if (n < opening.length) return opening[n];
      const r = random();
      if (r < 0.1) return 'drop';
      if (r < 0.2) return 'cut';
      if (r < 0.25) return { delayMs: 1_200 };
      if (r < 0.32) return { status: 503, retryAfter: '0' };
      if (r < 0.37) return { status: 429 };
      if (r < 0.4) return { status: 500 };
      return 'pass';
    });
    try {
      const { client, errors, rejected } = newClient(proxy.url, { concurrency: 2 });
      const n = 3_000;
      const ids = trackN(client, n, 'faulty');
      expect(new Set(ids).size).toBe(n);
      await client.close();
      // Delayed requests the client gave up on still reach the server after close(): wait for them.
      await proxy.idle();
      await waitProcessed(ids);

      expect(errors).toEqual([]);
      expect(rejected).toEqual([]);
      for (const kind of ['drop', 'cut', 'delay', 'status 503', 'status 429', 'status 500', 'pass']) {
        expect(proxy.applied[kind]).toBeGreaterThan(0);
      }
      const stored = await storedIds('faulty');
      expect(stored).toHaveLength(n);
      expect(new Set(stored)).toEqual(new Set(ids));
    } finally {
      await proxy.stop();
    }
  });

  it('reports events the server refuses, stores their neighbours, and never resends them', async () => {
    let batches = 0;
    const proxy = await FaultProxy.start(t.url, (req) => {
      if (req.path === '/v1/events/batch') batches++;
      return 'pass';
    });
    try {
      const { client, errors, rejected } = newClient(proxy.url);
      const good = trackN(client, 3, 'refused');
      const bad = client.track({ session_id: '', category: 'client e2e', name: 'refused', data: {} });
      await client.close();
      await waitProcessed(good);
      expect(errors).toEqual([]);
      expect(rejected.map((r) => r.id)).toEqual([bad]);
      expect(rejected[0].errors[0].path).toMatch(/session_id$/);
      expect(batches).toBe(1);
      expect(new Set(await storedIds('refused'))).toEqual(new Set(good));
    } finally {
      await proxy.stop();
    }
  });
});
