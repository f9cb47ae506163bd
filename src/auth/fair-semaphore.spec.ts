import { FairSemaphore, QueueFullError } from './fair-semaphore';

describe(FairSemaphore.name, () => {
  /** A task that finishes when told to, recording when it started. */
  function gate(log: string[], name: string): { task: () => Promise<string>; open: () => void } {
    let open!: () => void;
    const done = new Promise<void>((r) => (open = r));
    return {
      task: async () => {
        log.push(name);
        await done;
        return name;
      },
      open: () => open(),
    };
  }
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('runs at most `max` tasks at once', async () => {
    const sut = new FairSemaphore(2, 100);
    const log: string[] = [];
    const gates = [0, 1, 2, 3].map((i) => gate(log, `t${i}`));
    const runs = gates.map((g) => sut.run('a', g.task));
    await tick();
    expect(log).toEqual(['t0', 't1']);
    gates[0].open();
    await tick();
    expect(log).toEqual(['t0', 't1', 't2']);
    gates.slice(1).forEach((g) => g.open());
    expect(await Promise.all(runs)).toEqual(['t0', 't1', 't2', 't3']);
  });

  it('serves another key before the rest of a flood', async () => {
    const sut = new FairSemaphore(1, 100);
    const log: string[] = [];
    const flood = Array.from({ length: 10 }, (_, i) => gate(log, `bad${i}`));
    const floodRuns = flood.map((g) => sut.run('attacker', g.task));
    const good = gate(log, 'good');
    const goodRun = sut.run('someone', good.task);
    await tick();
    flood[0].open();
    await tick();
    flood[1].open();
    await tick();
    // bad0 ran, then bad1 (first in line), then the other key's task: not after the whole flood.
    expect(log.slice(0, 3)).toEqual(['bad0', 'bad1', 'good']);
    good.open();
    flood.forEach((g) => g.open());
    await Promise.all([goodRun, ...floodRuns]);
    expect(sut.pending).toBe(0);
  });

  it('refuses a task when its key already has the maximum waiting, and frees slots on failure', async () => {
    const sut = new FairSemaphore(1, 2);
    const log: string[] = [];
    const g = [0, 1, 2].map((i) => gate(log, `t${i}`));
    const runs = g.map((x) => sut.run('a', x.task));
    await expect(sut.run('a', () => Promise.resolve('x'))).rejects.toBeInstanceOf(QueueFullError);
    g.forEach((x) => x.open());
    await Promise.all(runs);
    await expect(sut.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await sut.run('a', () => Promise.resolve('after'))).toBe('after');
  });

  it('refuses a task when the whole line (all keys) is full', async () => {
    const sut = new FairSemaphore(1, 10, 2);
    const log: string[] = [];
    const g = ['a', 'b', 'c'].map((k) => ({ key: k, ...gate(log, k) }));
    const runs = g.map((x) => sut.run(x.key, x.task));
    await tick();
    // 'a' runs, 'b' and 'c' wait: the line holds 2.
    await expect(sut.run('d', () => Promise.resolve('x'))).rejects.toBeInstanceOf(QueueFullError);
    expect(sut.pending).toBe(2);
    g.forEach((x) => x.open());
    await Promise.all(runs);
    expect(sut.pending).toBe(0);
    expect(await sut.run('d', () => Promise.resolve('d'))).toBe('d');
  });
});
