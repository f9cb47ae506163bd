import { backoffDelay, parseRetryAfter, retryDelay, verdictFor } from '../src/retry';

describe('backoffDelay', () => {
  it('doubles per attempt, keeps half of the step and randomises the other half', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(400);
    expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(600);
  });

  it('never exceeds the cap, even after many attempts', () => {
    for (const attempt of [10, 20, 50, 1000]) {
      expect(backoffDelay(attempt, 100, 5_000, () => 1)).toBe(5_000);
      expect(backoffDelay(attempt, 100, 5_000, () => 0)).toBe(2_500);
    }
  });

  it('spreads clients that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 100, 60_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(800);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-02T10:00:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });
  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Wed, 02 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 09:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
  });
});

describe('retryDelay', () => {
  it("prefers the server's Retry-After to the backoff", () => {
    expect(retryDelay(0, 2000, 100, 30_000, () => 0)).toBe(2000);
    expect(retryDelay(0, undefined, 100, 30_000, () => 0)).toBe(50);
  });
  it('caps an absurd Retry-After', () => {
    expect(retryDelay(0, 86_400_000, 100, 30_000)).toBe(60_000);
  });
});

describe('verdictFor', () => {
  it.each([
    [undefined, 'retry'],
    [202, 'ok'],
    [401, 'reauth'],
    [408, 'retry'],
    [413, 'split'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [400, 'fail'],
    [403, 'fail'],
    [404, 'fail'],
    [415, 'fail'],
    [422, 'fail'],
  ])('%s → %s', (status, verdict) => {
    expect(verdictFor(status)).toBe(verdict);
  });
});
