import { registerClient, startApp, type TestApp } from './helpers/app';
import { httpFrom } from './helpers/source';

/**
 * Which address a token request comes from decides whose guessing counters it moves. These tests
 * open their connections from distinct loopback addresses (127.0.0.x), so the server sees real,
 * different TCP peers, and check that a made-up X-Forwarded-For moves nothing unless the peer is
 * one of TRUSTED_PROXIES.
 */
describe('source address of token requests (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const token = (from: string, url: string, clientId: string, secret: string, xff?: string) =>
    httpFrom(from, `${url}/v1/auth/token`, {
      json: { client_id: clientId, client_secret: secret },
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    });

  it('ignores a made-up X-Forwarded-For: 300 failures with rotating headers get 429 after the address limit (100)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 300; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          // Distinct unknown ids: only the per-address limit applies.
          token('127.0.0.21', t.url, `rotating-${i + j}`, 'nope', `198.51.100.${(i + j) % 250}`),
        ),
      );
      statuses.push(...batch.map((r) => r.status));
    }
    expect(statuses.slice(0, 100)).toEqual(Array(100).fill(401));
    expect(statuses.slice(100)).toEqual(Array(200).fill(429));
  }, 180_000);

  it('does not let failures claiming X-Forwarded-For: 127.0.0.1 (or coming from other addresses) lock out the owner', async () => {
    const owner = await registerClient(t.url, ['events:read']);
    // 100 failures for the owner's id, claiming to come from the owner's address.
    const claimed: number[] = [];
    for (let i = 0; i < 100; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: 20 }, () => token('127.0.0.22', t.url, owner.clientId, 'wrong', '127.0.0.1')),
      );
      claimed.push(...batch.map((r) => r.status));
    }
    expect(claimed.filter((s) => s === 401)).toHaveLength(10);
    expect(claimed.filter((s) => s === 429)).toHaveLength(90);
    // Ten more failures each from four other real addresses.
    for (const from of ['127.0.0.23', '127.0.0.24', '127.0.0.25', '127.0.0.26']) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () => token(from, t.url, owner.clientId, 'wrong')),
      );
      expect(batch.map((r) => r.status)).toEqual(Array(10).fill(401));
    }
    // The owner, from its own address (127.0.0.1), is not affected.
    const mine = await token('127.0.0.1', t.url, owner.clientId, owner.secret);
    expect(mine.status).toBe(200);
  }, 180_000);

  it('believes X-Forwarded-For only from TRUSTED_PROXIES, and only the hop the proxy added', async () => {
    const behindProxy = await startApp({ TRUSTED_PROXIES: '127.0.0.30, 127.0.1.0/24' });
    try {
      const c = await registerClient(behindProxy.url, ['events:read']);
      const proxy = '127.0.0.30';
      // 100 failures of the caller 203.0.113.7, seen through the trusted proxy.
      for (let i = 0; i < 100; i += 10) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            token(proxy, behindProxy.url, `via-proxy-${i + j}`, 'nope', '203.0.113.7'),
          ),
        );
        expect(batch.map((r) => r.status)).toEqual(Array(10).fill(401));
      }
      const blocked = await token(proxy, behindProxy.url, c.clientId, c.secret, '203.0.113.7');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another caller behind the same proxy, and the proxy itself, are not that address.
      expect((await token(proxy, behindProxy.url, c.clientId, c.secret, '203.0.113.8')).status).toBe(200);
      expect((await token(proxy, behindProxy.url, c.clientId, c.secret)).status).toBe(200);
      // A CIDR entry is a trusted proxy too.
      expect((await token('127.0.1.9', behindProxy.url, c.clientId, c.secret, '203.0.113.7')).status).toBe(
        429,
      );
      // The caller's own X-Forwarded-For entries before the proxy's hop are not believed.
      expect(
        (await token(proxy, behindProxy.url, c.clientId, c.secret, '203.0.113.7, 203.0.113.9')).status,
      ).toBe(200);
      // An untrusted peer claiming that address is judged by its own.
      expect((await token('127.0.0.31', behindProxy.url, c.clientId, c.secret, '203.0.113.7')).status).toBe(
        200,
      );
    } finally {
      await behindProxy.close();
    }
  }, 180_000);
});
