import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, type TestApp, waitFor } from './helpers/app';
import { waitProcessed } from './helpers/db';
import { RedisServer } from './helpers/redis-server';

const event = () => ({
  session_id: randomUUID(),
  category: 'page interaction',
  name: 'pageview',
  data: { host: 'example.com', path: '/' },
  timestamp: '2021-01-01 09:15:27.243860',
});

describe('never hang (e2e, with a private redis-server)', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.stop());

  describe('Redis unreachable', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({ REDIS_URL: redis.url });
    });
    afterAll(() => t.close());

    it('answers 503 with Retry-After within 2 s while Redis is down, and recovers when it is back', async () => {
      const writer = await registerClient(t.url, ['events:write']);
      const before = await http(`${t.url}/v1/events`, { token: writer.token, json: event() });
      expect(before.status).toBe(202);

      await redis.stop();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await http(`${t.url}/v1/events/batch`, {
          token: writer.token,
          json: { events: [event(), event()] },
        });
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(res.body).toEqual({ code: 'queue_unavailable', message: expect.any(String) });
      }
      const ready = await http(`${t.url}/ready`);
      expect(ready.status).toBe(503);

      await redis.restart();
      const after = await waitFor(
        async () => {
          const res = await http(`${t.url}/v1/events`, { token: writer.token, json: event() });
          return res.status === 202 ? res : undefined;
        },
        15_000,
        'ingestion to recover',
      );
      // The worker's blocking connection comes back on its own backoff after the restart: on a busy
      // machine that has taken over 20 s.
      await waitProcessed([after.body.id], redis.url, 45_000);
      expect((await http(`${t.url}/v1/events/${after.body.id}`, { token: writer.token })).body.status).toBe(
        'stored',
      );
    }, 90_000);
  });

  describe('backlog over MAX_QUEUE_BACKLOG', () => {
    let t: TestApp;
    beforeAll(async () => {
      // A clean slate: nothing the previous block left queued counts toward this backlog.
      await redis.stop();
      await redis.restart();
      // API only: nothing drains the queue, so the backlog stays.
      t = await startApp({ REDIS_URL: redis.url, ROLE: 'api', MAX_QUEUE_BACKLOG: '10' });
    });
    afterAll(() => t.close());

    it('answers 429 with Retry-After once the queued-but-not-stored events reach the limit', async () => {
      const writer = await registerClient(t.url, ['events:write']);
      const first = await http(`${t.url}/v1/events/batch`, {
        token: writer.token,
        json: { events: Array.from({ length: 10 }, event) },
      });
      expect(first.status).toBe(202);
      const res = await waitFor(
        async () => {
          const r = await http(`${t.url}/v1/events`, { token: writer.token, json: event() });
          return r.status === 429 ? r : undefined;
        },
        5_000,
        'a 429',
      );
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body.code).toBe('rate_limited');
      // the accepted events are still queued, not lost
      const ids = first.body.results.map((r: { id: string }) => r.id);
      const st = await http(`${t.url}/v1/events/${ids[0]}`, { token: writer.token });
      expect(st.body.status).toBe('queued');
    });
  });
});
