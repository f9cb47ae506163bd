import { GroupCommit } from './group-commit';

/** A write whose completion the test controls. */
function controlledWrite() {
  const calls: { items: number[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const write = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ items, resolve, reject });
    });
  return { calls, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe(GroupCommit.name, () => {
  it('writes the items of callers that arrive in the same turn together', async () => {
    const { calls, write } = controlledWrite();
    const sut = new GroupCommit<number>({ write, maxItems: 100, maxInflight: 1 });
    const a = sut.add([1, 2]);
    const b = sut.add([3]);
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    calls[0].resolve();
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined]);
  });

  it('groups callers that arrive while a write is in flight into the next write', async () => {
    const { calls, write } = controlledWrite();
    const sut = new GroupCommit<number>({ write, maxItems: 100, maxInflight: 1 });
    const first = sut.add([1]);
    await tick();
    const second = sut.add([2]);
    const third = sut.add([3]);
    await tick();
    expect(calls).toHaveLength(1);
    calls[0].resolve();
    await first;
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    calls[1].resolve();
    await Promise.all([second, third]);
  });

  it('never puts more than maxItems in one write unless a single caller brings more', async () => {
    const { calls, write } = controlledWrite();
    const sut = new GroupCommit<number>({ write, maxItems: 3, maxInflight: 4 });
    void sut.add([1, 2]);
    void sut.add([3, 4]);
    void sut.add([5, 6, 7, 8, 9]);
    await tick();
    expect(calls.map((c) => c.items)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6, 7, 8, 9],
    ]);
  });

  it('fails every caller of a failed group, and each caller alone when isolate() says so', async () => {
    const plain = controlledWrite();
    const sut = new GroupCommit<number>({ write: plain.write, maxItems: 10, maxInflight: 1 });
    const a = sut.add([1]);
    const b = sut.add([2]);
    await tick();
    plain.calls[0].reject(new Error('down'));
    await expect(a).rejects.toThrow('down');
    await expect(b).rejects.toThrow('down');

    const isolated = controlledWrite();
    const sut2 = new GroupCommit<number>({
      write: isolated.write,
      maxItems: 10,
      maxInflight: 1,
      isolate: (e) => (e as Error).message === 'bad data',
    });
    const good = sut2.add([1]);
    const bad = sut2.add([2]);
    await tick();
    isolated.calls[0].reject(new Error('bad data'));
    await tick();
    expect(isolated.calls.slice(1).map((c) => c.items)).toEqual([[1], [2]]);
    isolated.calls[1].resolve();
    isolated.calls[2].reject(new Error('bad data'));
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('bad data');
  });
  describe('with lingerMs', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('waits lingerMs for more callers, then writes them together', () => {
      const { calls, write } = controlledWrite();
      const sut = new GroupCommit<number>({ write, maxItems: 100, maxInflight: 1, lingerMs: 3 });
      void sut.add([1]);
      jest.advanceTimersByTime(2);
      expect(calls).toHaveLength(0);
      void sut.add([2]);
      jest.advanceTimersByTime(1);
      expect(calls.map((c) => c.items)).toEqual([[1, 2]]);
    });

    it('writes at once, without lingering, when the group reaches maxItems', () => {
      const { calls, write } = controlledWrite();
      const sut = new GroupCommit<number>({ write, maxItems: 3, maxInflight: 1, lingerMs: 1_000 });
      void sut.add([1, 2]);
      void sut.add([3]);
      expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    });

    it('keeps a small group gathering until its linger ends, even when the write in flight completes', async () => {
      const { calls, write } = controlledWrite();
      const sut = new GroupCommit<number>({ write, maxItems: 100, maxInflight: 1, lingerMs: 3 });
      void sut.add([1]);
      jest.advanceTimersByTime(3);
      void sut.add([2]);
      calls[0].resolve();
      await Promise.resolve();
      await Promise.resolve();
      expect(calls).toHaveLength(1);
      void sut.add([3]);
      jest.advanceTimersByTime(3);
      expect(calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    });

    it('writes a group whose linger ended while every slot was busy as soon as a write completes', async () => {
      const { calls, write } = controlledWrite();
      const sut = new GroupCommit<number>({ write, maxItems: 100, maxInflight: 1, lingerMs: 3 });
      void sut.add([1]);
      jest.advanceTimersByTime(3);
      void sut.add([2]);
      jest.advanceTimersByTime(3); // linger over, but the only slot is taken
      expect(calls).toHaveLength(1);
      calls[0].resolve();
      await Promise.resolve();
      await Promise.resolve();
      expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    });

    const LINGER_BELOW_3 = { maxItems: 100, maxInflight: 1, lingerMs: 1_000, lingerBelow: 3 };

    it('does not linger once the group holds lingerBelow items: it writes on the next turn', () => {
      const { calls, write } = controlledWrite();
      const sut = new GroupCommit<number>({ write, ...LINGER_BELOW_3 });
      void sut.add([1, 2, 3]);
      expect(calls).toHaveLength(0); // not synchronously: callers of the same turn still join
      void sut.add([4]);
      jest.advanceTimersByTime(1); // the next turn (setImmediate), long before lingerMs
      expect(calls.map((c) => c.items)).toEqual([[1, 2, 3, 4]]);
    });

    it('stops lingering when a small group grows to lingerBelow', () => {
      const { calls, write } = controlledWrite();
      const sut = new GroupCommit<number>({ write, ...LINGER_BELOW_3 });
      void sut.add([1]);
      jest.advanceTimersByTime(10);
      expect(calls).toHaveLength(0);
      void sut.add([2, 3]);
      jest.advanceTimersByTime(1); // the next turn, not the end of the 1 s linger
      expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
      jest.advanceTimersByTime(2_000); // the cancelled linger timer writes nothing more
      expect(calls).toHaveLength(1);
    });
  });
});
