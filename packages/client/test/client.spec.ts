import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EyeClient, type EyeClientOptions } from '../src/client';
import type { EyeError } from '../src/errors';
import { TokenProvider } from '../src/token';
import { batchIds, event, FakeEye } from './fake-eye';

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe(EyeClient.name, () => {
  let eye: FakeEye;
  let clients: EyeClient[];

  beforeEach(async () => {
    eye = await FakeEye.start();
    clients = [];
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await eye.stop();
  });

  function client(opts: Partial<EyeClientOptions> = {}): EyeClient {
    const sut = new EyeClient({
      baseUrl: eye.url,
      clientId: 'cli_test',
      clientSecret: 'secret',
      flushIntervalMs: 60_000,
      minBackoffMs: 10,
      maxBackoffMs: 50,
      timeoutMs: 2_000,
      ...opts,
    });
    clients.push(sut);
    return sut;
  }

  function errorsOf(sut: EyeClient): EyeError[] {
    const errors: EyeError[] = [];
    sut.on('error', (e) => errors.push(e));
    return errors;
  }

  describe('batching', () => {
    it('sends a batch as soon as flushAt events are queued, and the rest on flush()', async () => {
      const sut = client({ flushAt: 10 });
      const ids = Array.from({ length: 25 }, (_, i) => sut.track(event(i)));
      await until(() => eye.received.length === 20);
      await new Promise((r) => setTimeout(r, 100));
      expect(eye.batches().map((b) => batchIds(b).length)).toEqual([10, 10]);
      await sut.flush();
      expect(eye.batches().map((b) => batchIds(b).length)).toEqual([10, 10, 5]);
      expect(eye.received).toEqual(ids);
    });

    it('sends what is queued every flushIntervalMs without being asked', async () => {
      const sut = client({ flushAt: 100, flushIntervalMs: 50 });
      const id = sut.track(event());
      await until(() => eye.received.length > 0);
      expect(eye.received).toEqual([id]);
    });

    it('keeps each request body under maxBatchBytes', async () => {
      const sut = client({ flushAt: 1000, maxBatchBytes: 4096 });
      const ids = Array.from({ length: 100 }, (_, i) =>
        sut.track({ ...event(i), data: { pad: 'x'.repeat(300) } }),
      );
      await sut.flush();
      expect(eye.batches().length).toBeGreaterThan(5);
      for (const b of eye.batches()) expect(Buffer.byteLength(b.body)).toBeLessThanOrEqual(4096);
      expect(eye.received).toEqual(ids);
    });

    it('never puts more than 1,000 events in a batch', async () => {
      const sut = client({ flushAt: 5000 });
      for (let i = 0; i < 2500; i++) sut.track(event(i));
      await sut.flush();
      expect(eye.batches().map((b) => batchIds(b).length)).toEqual([1000, 1000, 500]);
    });

    it('assigns a UUIDv7 and a timestamp in track(), and keeps ids the caller chose', async () => {
      const sut = client();
      const id = sut.track(event());
      const own = sut.track({
        ...event(),
        id: '0192c0de-0000-7000-8000-000000000001',
        timestamp: new Date(0),
      });
      await sut.flush();
      const sent = (JSON.parse(eye.batches()[0].body) as { events: Record<string, unknown>[] }).events;
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(sent[0]).toMatchObject({ id, session_id: 's-0' });
      expect(typeof sent[0].timestamp).toBe('string');
      expect(sent[1]).toMatchObject({ id: own, timestamp: '1970-01-01T00:00:00.000Z' });
    });
  });

  describe('retries', () => {
    it('retries a 503 after its Retry-After, with the same events (same ids)', async () => {
      eye.onBatch = (_req, n) =>
        n === 0
          ? { status: 503, headers: { 'retry-after': '1' }, body: { code: 'queue_unavailable' } }
          : undefined;
      const sut = client();
      const ids = [sut.track(event(1)), sut.track(event(2))];
      await sut.flush();
      const [first, second] = eye.batches();
      expect(second.at - first.at).toBeGreaterThanOrEqual(950);
      expect(batchIds(second)).toEqual(batchIds(first));
      expect(eye.received).toEqual(ids);
    });

    it('retries 429, 500, 408, network errors and timeouts with backoff', async () => {
      const script = [
        { status: 429, body: {} },
        { status: 500, body: {} },
        { status: 408, body: {} },
        'destroy' as const,
        'hang' as const,
      ];
      eye.onBatch = (_req, n) => script[n];
      const sut = client({ timeoutMs: 200 });
      const errors = errorsOf(sut);
      const id = sut.track(event());
      await sut.flush();
      expect(eye.batches()).toHaveLength(6);
      expect(eye.received).toEqual([id]);
      expect(errors).toEqual([]);
    });

    it('gives up after maxRetries and reports the ids in an error', async () => {
      eye.onBatch = () => ({ status: 502, body: {} });
      const sut = client({ maxRetries: 3 });
      const errors = errorsOf(sut);
      const id = sut.track(event());
      await sut.flush();
      expect(eye.batches()).toHaveLength(4);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'retries_exhausted', status: 502, ids: [id] });
    });

    it.each([400, 403, 404, 415, 422])('never retries a %s', async (status) => {
      eye.onBatch = () => ({ status, body: { code: 'x', message: 'refused' } });
      const sut = client();
      const errors = errorsOf(sut);
      const id = sut.track(event());
      await sut.flush();
      expect(eye.batches()).toHaveLength(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'http_error', status, ids: [id] });
    });

    it('splits a batch the server finds too large (413) and sends both halves', async () => {
      eye.onBatch = (req) => (batchIds(req).length > 2 ? { status: 413, body: {} } : undefined);
      const sut = client();
      const ids = Array.from({ length: 5 }, (_, i) => sut.track(event(i)));
      await sut.flush();
      expect(eye.received).toEqual(ids);
    });

    it('reports per-event rejections and does not resend them', async () => {
      eye.onBatch = (req) => {
        const [a] = batchIds(req);
        eye.received.push(a);
        return {
          status: 202,
          body: {
            accepted: 1,
            rejected: 1,
            results: [
              { index: 0, id: a, status: 'queued' },
              { index: 1, status: 'rejected', errors: [{ path: '/events/1/data', message: 'is required' }] },
            ],
          },
        };
      };
      const sut = client();
      const rejected: unknown[] = [];
      sut.on('rejected', (r) => rejected.push(r));
      sut.track(event(0));
      const bad = sut.track(event(1));
      await sut.flush();
      expect(eye.batches()).toHaveLength(1);
      expect(rejected).toEqual([
        {
          id: bad,
          errors: [{ path: '/events/1/data', message: 'is required' }],
          event: expect.objectContaining({ id: bad, session_id: 's-1' }),
        },
      ]);
    });
  });

  describe('tokens', () => {
    it('asks for a token once and reuses it', async () => {
      const sut = client({ flushAt: 1 });
      for (let i = 0; i < 5; i++) sut.track(event(i));
      await sut.flush();
      expect(eye.tokenRequests()).toHaveLength(1);
      expect(JSON.parse(eye.tokenRequests()[0].body)).toEqual({
        client_id: 'cli_test',
        client_secret: 'secret',
      });
      expect(new Set(eye.batches().map((b) => b.authorization))).toEqual(new Set(['Bearer token-1']));
    });

    it('gets a new token on 401 and resends at once with it', async () => {
      eye.onBatch = (req) => (req.authorization === 'Bearer token-1' ? { status: 401, body: {} } : undefined);
      const sut = client();
      const id = sut.track(event());
      await sut.flush();
      expect(eye.batches().map((b) => b.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
      expect(eye.received).toEqual([id]);
    });

    it('refreshes a token before it expires', async () => {
      let now = 1_000_000;
      eye.tokenLifetimeS = 100;
      const sut = new TokenProvider({
        baseUrl: eye.url,
        clientId: 'a',
        clientSecret: 'b',
        fetch,
        timeoutMs: 1000,
        now: () => now,
      });
      expect(await sut.get()).toBe('token-1');
      now += 79_000;
      expect(await sut.get()).toBe('token-1');
      now += 2_000; // 81 s of a 100 s token: inside the last fifth
      expect(await sut.get()).toBe('token-2');
      expect(eye.tokenRequests()).toHaveLength(2);
    });

    it('shares one token request between concurrent callers', async () => {
      const sut = new TokenProvider({
        baseUrl: eye.url,
        clientId: 'a',
        clientSecret: 'b',
        fetch,
        timeoutMs: 1000,
      });
      const tokens = await Promise.all([sut.get(), sut.get(), sut.get()]);
      expect(tokens).toEqual(['token-1', 'token-1', 'token-1']);
      expect(eye.tokenRequests()).toHaveLength(1);
    });

    it('gives up a batch at once when the credentials are refused', async () => {
      eye.onToken = () => ({ status: 401, body: { code: 'invalid_client', message: 'bad secret' } });
      const sut = client();
      const errors = errorsOf(sut);
      const id = sut.track(event());
      await sut.flush();
      expect(eye.tokenRequests()).toHaveLength(1);
      expect(eye.batches()).toHaveLength(0);
      expect(errors[0]).toMatchObject({ code: 'auth_failed', ids: [id] });
    });

    it('retries a token request answered 429 after its Retry-After', async () => {
      eye.onToken = (_req, n) =>
        n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: {} } : undefined;
      const sut = client();
      const id = sut.track(event());
      await sut.flush();
      const [first, second] = eye.tokenRequests();
      expect(second.at - first.at).toBeGreaterThanOrEqual(950);
      expect(eye.received).toEqual([id]);
    });
  });

  describe('overflow', () => {
    it('drops the newest events when maxQueueSize are waiting, and never sends them', async () => {
      const sut = client({ flushAt: 2, maxQueueSize: 3 });
      const dropped: { id: string; reason: string }[] = [];
      sut.on('dropped', (d) => dropped.push({ id: d.id, reason: d.reason }));
      // Hold the first batch in flight so the queue fills behind it.
      eye.onBatch = (req, n) => (n === 0 ? eye.accept(req, 200) : undefined);
      const ids = Array.from({ length: 7 }, (_, i) => sut.track(event(i)));
      // 2 in flight, 3 queued, the last 2 dropped.
      expect(dropped).toEqual([
        { id: ids[5], reason: 'queue_full' },
        { id: ids[6], reason: 'queue_full' },
      ]);
      await sut.flush();
      expect(eye.received).toEqual(ids.slice(0, 5));
    });

    it('waitForRoom() resolves once a batch leaves the queue', async () => {
      const sut = client({ flushAt: 2, maxQueueSize: 2 });
      eye.onBatch = (req) => eye.accept(req, 100);
      sut.track(event(0));
      sut.track(event(1)); // a batch of 2 leaves at once
      sut.track(event(2));
      sut.track(event(3)); // the second batch waits for the slot: the queue is full
      expect(sut.queued).toBe(2);
      let resolved = false;
      const room = sut.waitForRoom().then(() => (resolved = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(resolved).toBe(false);
      await room;
      expect(sut.queued).toBeLessThan(2);
    });
  });

  describe('close()', () => {
    it('resolves only after the batch in flight has been answered', async () => {
      eye.onBatch = (req) => eye.accept(req, 300);
      const sut = client({ flushAt: 1 });
      const id = sut.track(event());
      await new Promise((r) => setTimeout(r, 50));
      expect(eye.batches()).toHaveLength(1);
      const started = Date.now();
      await sut.close();
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      expect(eye.received).toEqual([id]);
    });

    it('waits out the retries of a batch in flight', async () => {
      eye.onBatch = (_req, n) =>
        n < 2 ? { status: 503, headers: { 'retry-after': '1' }, body: {} } : undefined;
      const sut = client();
      const id = sut.track(event());
      await sut.close();
      expect(eye.batches()).toHaveLength(3);
      expect(eye.received).toEqual([id]);
    });

    it('sends what is queued, then drops events tracked after it', async () => {
      const sut = client({ flushAt: 100 });
      const ids = [sut.track(event(0)), sut.track(event(1))];
      const closing = sut.close();
      const dropped: string[] = [];
      sut.on('dropped', (d) => dropped.push(`${d.reason}:${d.id}`));
      const late = sut.track(event(2));
      await closing;
      expect(eye.received).toEqual(ids);
      expect(dropped).toEqual([`closed:${late}`]);
    });
  });

  it('never keeps the process alive (unref’d timer)', async () => {
    const script = `
      const { EyeClient } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      new EyeClient({ baseUrl: ${JSON.stringify(eye.url)}, clientId: 'a', clientSecret: 'b', flushIntervalMs: 60000 });
    `;
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
