import fc from 'fast-check';
import { checkEventLimits } from './event-size';

/** The definition, written the obvious (recursive) way: levels of `data`, bytes of the compact JSON. */
function reference(event: { data: unknown }, maxDepth: number, maxBytes: number): string | null {
  const depth = (v: unknown): number =>
    v !== null && typeof v === 'object'
      ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depth))
      : 0;
  if (depth(event.data) > maxDepth) return 'payload_too_deep';
  return Buffer.byteLength(JSON.stringify(event)) > maxBytes ? 'event_too_large' : null;
}

const nested = (levels: number, inner: unknown = {}): unknown => {
  let v = inner;
  for (let i = 1; i < levels; i++) v = [v];
  return v;
};

describe(checkEventLimits.name, () => {
  const limits = { maxDepth: 4, maxBytes: 200 };

  it('counts data as level 1, through objects and arrays alike', () => {
    expect(checkEventLimits({ data: nested(4) }, limits)).toBeNull();
    expect(checkEventLimits({ data: nested(5) }, limits)).toBe('payload_too_deep');
    expect(checkEventLimits({ data: { a: [{ b: {} }] } }, limits)).toBeNull();
    expect(checkEventLimits({ data: { a: [{ b: { c: 1 } }], d: [[[[]]]] } }, limits)).toBe(
      'payload_too_deep',
    );
  });

  it('refuses 1,000,000 levels without overflowing the stack', () => {
    expect(checkEventLimits({ data: nested(1_000_000) }, { maxDepth: 32, maxBytes: 65_536 })).toBe(
      'payload_too_deep',
    );
  });

  it('is exact at the byte limit, for escapes and multi-byte characters too', () => {
    for (const text of ['plain', 'quote " and \\ backslash', 'control \u0001\n', 'é 😀 \uD800 lone']) {
      const event = { data: { text }, pad: 'x'.repeat(3_000) };
      const size = Buffer.byteLength(JSON.stringify(event));
      expect(checkEventLimits(event, { maxDepth: 4, maxBytes: size })).toBeNull();
      expect(checkEventLimits(event, { maxDepth: 4, maxBytes: size - 1 })).toBe('event_too_large');
    }
  });

  it('agrees with the recursive definition on arbitrary JSON', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 7 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 8, max: 400 }),
        (data, maxDepth, maxBytes) => {
          // What JSON.parse gives: JSON.stringify(-0) is "0" and fc may produce -0.
          const event = JSON.parse(JSON.stringify({ id: 'x', data })) as { data: unknown };
          expect(checkEventLimits(event, { maxDepth, maxBytes })).toBe(reference(event, maxDepth, maxBytes));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
