import type Redis from 'ioredis';
import type { ClientStateService } from '../auth/client-state.service';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/config';
import type { ClientsRepository } from '../auth/clients.repository';
import { RateLimiter } from './rate-limiter.service';

describe(RateLimiter.name, () => {
  function setup(defaultLimit: number): { sut: RateLimiter; pipelines: () => number } {
    let pipelines = 0;
    const redis = {
      pipeline: () => {
        pipelines++;
        const p = { incrby: () => p, expire: () => p, exec: () => Promise.resolve([]) };
        return p;
      },
    } as unknown as Redis;
    const sut = new RateLimiter(
      { rateLimitEventsPerSecond: defaultLimit } as AppConfig,
      redis,
      {} as ClientsRepository,
      {} as ClientStateService,
    );
    return { sut, pipelines: () => pipelines };
  }

  it('does no work at all for clients without a limit when the default is 0', async () => {
    const { sut, pipelines } = setup(0);
    for (let i = 0; i < 10_000; i++) sut.take(`client-${i % 10}`, 100);
    await sut.sync();
    expect(pipelines()).toBe(0);
  });

  it('refuses what goes over the limit within a second with 429 and Retry-After: 1', () => {
    const { sut } = setup(10);
    // Far from a second boundary, so that the window cannot roll over during the test.
    jest.useFakeTimers({ now: 1_700_000_000_200 });
    try {
      sut.take('a', 6);
      sut.take('a', 4);
      let refused: unknown;
      try {
        sut.take('a', 1);
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(ApiError);
      expect(refused).toMatchObject({ status: 429, code: 'rate_limited', headers: { 'Retry-After': '1' } });
      sut.take('b', 10);
      expect(() => sut.take('a', 11)).toThrow(expect.objectContaining({ status: 413 }) as Error);
      jest.setSystemTime(1_700_000_001_200);
      expect(() => sut.take('a', 10)).not.toThrow();
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts other budgets (an address, a key) apart from clients, and says when one is spent', () => {
    const { sut } = setup(0);
    jest.useFakeTimers({ now: 1_700_000_000_200 });
    try {
      expect(sut.exhausted('addr:1.2.3.4', 3)).toBe(false);
      sut.takeFrom('addr:1.2.3.4', 2, 3, 'this address');
      expect(sut.exhausted('addr:1.2.3.4', 3)).toBe(false);
      sut.takeFrom('addr:1.2.3.4', 1, 3, 'this address');
      expect(sut.exhausted('addr:1.2.3.4', 3)).toBe(true);
      expect(() => sut.takeFrom('addr:1.2.3.4', 1, 3, 'this address')).toThrow(
        expect.objectContaining({
          status: 429,
          message: 'This address may send 3 events per second',
        }) as Error,
      );
      // Another budget, and the client's own (no limit here), are untouched.
      expect(sut.exhausted('addr:5.6.7.8', 3)).toBe(false);
      expect(() => sut.take('addr:1.2.3.4', 100)).not.toThrow();
      expect(sut.exhausted('addr:1.2.3.4', 0)).toBe(false);
      jest.setSystemTime(1_700_000_001_200);
      expect(sut.exhausted('addr:1.2.3.4', 3)).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
