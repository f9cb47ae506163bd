import { MergedSize, mergedBytes } from './merged-size';

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

describe(MergedSize.name, () => {
  const context = { app: { name: 'shop' }, sessionId: 's-1', blob: 'é'.repeat(100) };
  const integrations = { All: true };

  it('never undercounts what the merge adds: message without context, with one, overriding keys', () => {
    const sut = new MergedSize(context, integrations, '2026-12-01T00:00:00.000Z');
    const cases: Record<string, unknown>[] = [
      { type: 'track', event: 'e' },
      { type: 'track', event: 'e', context: { ip: '1.2.3.4' }, sentAt: 'x' },
      {
        type: 'track',
        event: 'e',
        context: { blob: 'small', sessionId: 's-2' },
        integrations: { All: false },
      },
      { type: 'track', event: 'e', context: 'not an object' },
    ];
    for (const m of cases) {
      const merged: Record<string, unknown> = { ...m };
      merged.context = typeof m.context === 'object' ? { ...context, ...(m.context as object) } : context;
      merged.integrations =
        typeof m.integrations === 'object'
          ? { ...integrations, ...(m.integrations as object) }
          : integrations;
      if (m.sentAt === undefined) merged.sentAt = '2026-12-01T00:00:00.000Z';
      const actual = bytes(merged) - bytes(m);
      const extra = sut.extra(m);
      expect(extra).toBeGreaterThanOrEqual(actual);
      // An upper bound, but a close one: a few bytes of separators at most.
      expect(extra - actual).toBeLessThan(32);
    }
    expect(sut.maxExtra).toBe(sut.extra({}));
  });

  it('an override by a small value removes the batch value from the count', () => {
    const sut = new MergedSize({ blob: 'x'.repeat(10_000) }, undefined, undefined);
    expect(sut.extra({ context: { blob: 'y' } })).toBe(0);
    expect(sut.extra({})).toBeGreaterThan(10_000);
  });

  it('mergedBytes counts a message over the per-message limit as sent (it is quarantined without the merge)', () => {
    const sut = new MergedSize({ blob: 'x'.repeat(1_000) }, undefined, undefined);
    const small = { event: 'e' };
    expect(mergedBytes([small, small], sut, 32 * 1024)).toBe(2 * (bytes(small) + sut.extra(small)));
    expect(mergedBytes([small, small], sut, 100)).toBe(2 * bytes(small));
  });
});
