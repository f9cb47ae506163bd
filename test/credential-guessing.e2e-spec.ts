import { http, type HttpResult, registerClient, startApp, type TestApp } from './helpers/app';
import { spawnService } from './helpers/process';

/**
 * Every request here names its own source address (X-Forwarded-For; the app trusts the proxy
 * header), so that these floods never count against 127.0.0.1, the address of every other test.
 */
describe('credential guessing (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  function tokenRequest(clientId: string, secret: string, source: string, url = t.url): Promise<HttpResult> {
    return http(`${url}/v1/auth/token`, {
      json: { client_id: clientId, client_secret: secret },
      headers: { 'x-forwarded-for': source },
    });
  }

  it('refuses a client id with 429 + Retry-After after 10 failed secrets, even the right secret; other ids are unaffected', async () => {
    const victim = await registerClient(t.url, ['events:write']);
    const other = await registerClient(t.url, ['events:write']);
    for (let i = 1; i <= 10; i++) {
      const res = await tokenRequest(victim.clientId, `wrong-${i}`, `10.1.0.${i}`);
      expect({ attempt: i, status: res.status }).toEqual({ attempt: i, status: 401 });
    }
    const eleventh = await tokenRequest(victim.clientId, 'wrong-11', '10.1.0.11');
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.code).toBe('rate_limited');
    const retryAfter = Number(eleventh.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // "for that id": the right secret too, from anywhere, until the minute is over.
    const good = await tokenRequest(victim.clientId, victim.secret, '10.1.1.1');
    expect(good.status).toBe(429);
    expect(Number(good.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another client id is not affected, from the same addresses.
    expect((await tokenRequest(other.clientId, other.secret, '10.1.0.11')).status).toBe(200);
    expect((await tokenRequest(other.clientId, 'wrong', '10.1.0.11')).status).toBe(401);
  }, 120_000);

  it('refuses a source address with 429 after 100 failures; other addresses are unaffected', async () => {
    const c = await registerClient(t.url, ['events:read']);
    const source = '10.2.0.1';
    // 100 failures spread over distinct (unknown) client ids: only the address limit applies.
    for (let i = 0; i < 100; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) => tokenRequest(`guess-${i + j}`, 'nope', source)),
      );
      expect(batch.map((r) => r.status)).toEqual(Array(10).fill(401));
    }
    const blocked = await tokenRequest('guess-100', 'nope', source);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await tokenRequest(c.clientId, c.secret, source)).status).toBe(429);
    expect((await tokenRequest(c.clientId, c.secret, '10.2.0.2')).status).toBe(200);
  }, 180_000);

  it("answers a good client's token request promptly while a flood of bad ones is being hashed", async () => {
    // A service process of its own: in this process the test's HTTP client would share the event
    // loop with the server and pace the flood itself.
    const svc = await spawnService({ ROLE: 'api' });
    try {
      const good = await registerClient(t.url, ['events:write']);
      const flood = 60;
      let badDone = 0;
      // Ids over 64 characters skip the client lookup: the flood reaches the hashing at once.
      const bad = Array.from({ length: flood }, (_, i) =>
        tokenRequest(`flood-${i}-${'x'.repeat(64)}`, 'nope', '10.3.0.1', svc.url).then((r) => {
          if (r.status === 401) badDone++;
          return r.status;
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const res = await tokenRequest(good.clientId, good.secret, '10.3.0.2', svc.url);
      const badBeforeGood = badDone;
      const statuses = await Promise.all(bad);
      expect(res.status).toBe(200);
      // Served within a turn or two of the hashing slots, not behind the whole flood (first come,
      // first served, every one of the flood's secrets was hashed before the good one).
      expect(badBeforeGood).toBeLessThan(20);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(20);
    } finally {
      await svc.stop();
    }
  }, 120_000);
});
