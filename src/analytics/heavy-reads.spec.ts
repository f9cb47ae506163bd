import { ApiError } from '../common/api-error';
import { HeavyReads } from './heavy-reads';

describe(HeavyReads.name, () => {
  const config = { analyticsMaxConcurrentPerClient: 2, analyticsPoolSize: 3 };

  it('lets a client hold its cap, refuses one more with 429 + Retry-After, and gives slots back once', () => {
    const sut = new HeavyReads(config);
    const r1 = sut.acquire('a');
    sut.acquire('a');
    let err: unknown;
    try {
      sut.acquire('a');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    expect((err as ApiError).headers).toEqual({ 'Retry-After': '1' });
    expect(() => sut.acquire('b')).not.toThrow();
    r1();
    r1(); // twice (a stream's end and close): one slot back, not two
    sut.acquire('a');
    expect(() => sut.acquire('a')).toThrow(ApiError);
  });

  it('runs statements of different clients in turn on all but one connection', async () => {
    const sut = new HeavyReads({ analyticsMaxConcurrentPerClient: 5, analyticsPoolSize: 3 });
    const order: string[] = [];
    const gates: Array<() => void> = [];
    const task = (name: string) => () =>
      new Promise<void>((resolve) => {
        order.push(name);
        gates.push(resolve);
      });
    const all = ['a1', 'a2', 'a3', 'a4', 'a5', 'b1'].map((n) => sut.statement(n[0], task(n)));
    await Promise.resolve();
    expect(order).toEqual(['a1', 'a2']); // pool of 3: two heavy statements at once
    for (let i = 0; i < 4; i++) {
      gates[i]();
      await new Promise((r) => setImmediate(r));
    }
    // b's statement, queued after three of a's, waits one turn, not three.
    expect(order).toEqual(['a1', 'a2', 'a3', 'b1', 'a4', 'a5']);
    gates.slice(4).forEach((g) => g());
    await Promise.all(all);
  });
});
