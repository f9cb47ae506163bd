import { http, type HttpResult, registerClient, startApp, type TestApp } from './helpers/app';
import { spawnService } from './helpers/process';
import { httpFrom } from './helpers/source';

/**
 * Every flood here comes from its own loopback address (127.0.2.x: real TCP peers, see
 * helpers/source.ts), so that it never counts against 127.0.0.1, the address of every other test.
 */
describe('credential guessing (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  function tokenRequest(
    clientId: string,
    secret: string,
    from: string,
    url = t.url,
    headers: Record<string, string> = {},
  ): Promise<HttpResult> {
    return httpFrom(from, `${url}/v1/auth/token`, {
      json: { client_id: clientId, client_secret: secret },
      headers,
    });
  }

  it('refuses a client id from one address with 429 + Retry-After after 10 failed secrets, even the right secret; its owner elsewhere and other ids are unaffected', async () => {
    const victim = await registerClient(t.url, ['events:write']);
    const other = await registerClient(t.url, ['events:write']);
    const guesser = '127.0.2.1';
    for (let i = 1; i <= 10; i++) {
      const res = await tokenRequest(victim.clientId, `wrong-${i}`, guesser);
      expect({ attempt: i, status: res.status }).toEqual({ attempt: i, status: 401 });
    }
    const eleventh = await tokenRequest(victim.clientId, 'wrong-11', guesser);
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.code).toBe('rate_limited');
    const retryAfter = Number(eleventh.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The right secret from that address too, until the minute is over.
    const fromGuesser = await tokenRequest(victim.clientId, victim.secret, guesser);
    expect(fromGuesser.status).toBe(429);
    expect(Number(fromGuesser.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The owner, from its own address, is not locked out by a stranger's failures.
    expect((await tokenRequest(victim.clientId, victim.secret, '127.0.2.2')).status).toBe(200);
    expect(
      (
        await http(`${t.url}/v1/auth/token`, {
          json: { client_id: victim.clientId, client_secret: victim.secret },
        })
      ).status,
    ).toBe(200);
    // Another client id is not affected, from the same address.
    expect((await tokenRequest(other.clientId, other.secret, guesser)).status).toBe(200);
    expect((await tokenRequest(other.clientId, 'wrong', guesser)).status).toBe(401);
  }, 120_000);

  it('refuses a source address with 429 after 100 failures; other addresses are unaffected', async () => {
    const c = await registerClient(t.url, ['events:read']);
    const source = '127.0.2.3';
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
    expect((await tokenRequest(c.clientId, c.secret, '127.0.2.4')).status).toBe(200);
  }, 180_000);

  it('counts an attempt before hashing its secret: of 200 concurrent guesses at one id only 10 are tried', async () => {
    const victim = await registerClient(t.url, ['events:write']);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => tokenRequest(victim.clientId, `guess-${i}`, '127.0.2.5')),
    );
    // 401 = hashed and wrong; 429 = refused before any hashing.
    expect(statuses.filter((r) => r.status === 401)).toHaveLength(10);
    expect(statuses.filter((r) => r.status === 429)).toHaveLength(190);
    expect((await tokenRequest(victim.clientId, victim.secret, '127.0.2.6')).status).toBe(200);
  }, 120_000);

  it("answers a good client's token request promptly while a flood of bad ones is being hashed", async () => {
    // A service process of its own: in this process the test's HTTP client would share the event
    // loop with the server and pace the flood itself.
    const svc = await spawnService({ ROLE: 'api' });
    try {
      const good = await registerClient(t.url, ['events:write']);
      let badDone = 0;
      // Ids over 64 characters skip the client lookup: the flood reaches the hashing at once.
      // 400 failures claiming rotating addresses (X-Forwarded-For), from one real one.
      const bad = Array.from({ length: 400 }, (_, i) =>
        tokenRequest(`flood-${i}-${'x'.repeat(64)}`, 'nope', '127.0.3.1', svc.url, {
          'x-forwarded-for': `198.51.100.${i % 250}`,
        }).then((r) => {
          if (r.status === 401) badDone++;
          return r.status;
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const res = await tokenRequest(good.clientId, good.secret, '127.0.3.100', svc.url);
      const badBeforeGood = badDone;
      const statuses = await Promise.all(bad);
      expect(res.status).toBe(200);
      // Served within a turn or two of the hashing slots, not behind the whole flood.
      expect(badBeforeGood).toBeLessThan(20);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      // The flood was really hashed (16 may wait per address, 2 run; the rest are refused).
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(10);
    } finally {
      await svc.stop();
    }
  }, 120_000);
});
