import { randomUUID } from 'node:crypto';
import { http, registerClient, startApp, waitFor, type TestApp, type TestClient } from './helpers/app';
import { ensurePartitions, withDb } from './helpers/db';

/**
 * One analyst cannot take every analytics connection: funnels and exports are capped per client
 * (ANALYTICS_MAX_CONCURRENT_PER_CLIENT, default 2) with 429 + Retry-After beyond it, while another
 * client is served; the cap is given back when a read finishes, also when an export is aborted.
 */
describe('Per-client caps on heavy analytics reads (e2e)', () => {
  let t: TestApp;
  let a: TestClient;
  let b: TestClient;
  const category = `caps-${randomUUID().slice(0, 8)}`;
  const ROWS = 30_000;

  const funnel = (token: string) =>
    http(`${t.url}/v1/funnels`, {
      token,
      json: {
        steps: [
          { category, name: 'pageview' },
          { category, name: 'cta_click' },
        ],
        within: '30m',
        from: '2021-11-01',
        to: '2021-11-02',
      },
    });
  /** An export whose body is not read: ~30 MB, so the server's stream stays open (back-pressure). */
  const openExport = async (token: string) => {
    const abort = new AbortController();
    const res = await fetch(`${t.url}/v1/events/export?category=${category}&format=ndjson`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    return { res, abort };
  };

  beforeAll(async () => {
    t = await startApp();
    a = await registerClient(t.url, ['events:read'], 'analyst A');
    b = await registerClient(t.url, ['events:read'], 'analyst B');
    await withDb(async (db) => {
      await ensurePartitions(db, '2021-11-01', '2021-11-02');
      await db.query(
        `INSERT INTO events (id, session_id, category, name, data, timestamp, received_at, client_id)
         SELECT gen_random_uuid(), 'caps-' || (i % 500), $1, 'pageview',
                jsonb_build_object('i', i, 'pad', repeat('x', 1000)),
                '2021-11-01T00:00:00Z'::timestamptz + i * interval '1 millisecond', now(), 'caps-client'
           FROM generate_series(0, $2::int - 1) AS i`,
        [category, ROWS],
      );
    });
  }, 60_000);
  afterAll(async () => {
    // The aborted exports' keep-alive sockets stay open on the client's side (undici) until its
    // keep-alive ends, and app.close() waits for them (~60 s). The service's own SIGTERM drain cuts
    // connections after a grace period (src/main.ts); the test app does it at once.
    t.app.getHttpServer().closeAllConnections();
    await t.close();
  });

  it("A's third concurrent heavy read is 429 with Retry-After while B is served; aborting gives the slot back", async () => {
    const first = await openExport(a.token);
    const second = await openExport(a.token);
    expect([first.res.status, second.res.status]).toEqual([200, 200]);
    try {
      const third = await funnel(a.token);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((third.body as { message: string }).message).toMatch(/ANALYTICS_MAX_CONCURRENT_PER_CLIENT/);
      const thirdExport = await http(`${t.url}/v1/events/export?category=${category}`, { token: a.token });
      expect(thirdExport.status).toBe(429);

      // Another analyst is not affected.
      const other = await funnel(b.token);
      expect(other.status).toBe(200);
      const otherExport = await openExport(b.token);
      expect(otherExport.res.status).toBe(200);
      otherExport.abort.abort();
    } finally {
      // The client goes away mid-stream: its slot must come back without reading to the end.
      first.abort.abort();
    }
    try {
      const again = await waitFor(
        async () => {
          const r = await funnel(a.token);
          return r.status === 200 ? r : undefined;
        },
        10_000,
        "A's slot to be released after the aborted export",
      );
      expect(again.status).toBe(200);
    } finally {
      // Never leave a stream open: the app's close would wait for it.
      second.abort.abort();
    }
  }, 60_000);

  it('slots come back when the reads finish: many sequential funnels and a full export in a row', async () => {
    for (let i = 0; i < 5; i++) expect((await funnel(a.token)).status).toBe(200);
    // Fully read exports, one after the other: each gives its slot back at its end.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${t.url}/v1/events/export?category=${category}&format=csv`, {
        headers: { authorization: `Bearer ${a.token}` },
      });
      expect(res.status).toBe(200);
      expect((await res.text()).split('\r\n').length).toBe(ROWS + 2);
    }
    // Two at once are allowed.
    const pair = await Promise.all([funnel(a.token), funnel(a.token)]);
    expect(pair.map((r) => r.status)).toEqual([200, 200]);
  }, 120_000);
});
