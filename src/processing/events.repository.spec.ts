import { JsonChunker } from './events.repository';

describe(JsonChunker.name, () => {
  const rows = (n: number, bytes: number) =>
    Array.from({ length: n }, (_, i) => ({ i, pad: 'x'.repeat(bytes) }));
  const parse = (chunks: string[]) => chunks.map((c) => JSON.parse(c) as { i: number }[]);

  it('keeps every row once, in order, and an empty list as one empty array', () => {
    const chunker = new JsonChunker();
    const input = rows(2_500, 100);
    expect(parse(chunker.chunks(input)).flat()).toEqual(input);
    expect(chunker.chunks([])).toEqual(['[]']);
  });

  it('sizes chunks by bytes: large rows get few per chunk, every chunk under 128 KiB', () => {
    const chunker = new JsonChunker();
    // The first chunk takes the default 200 rows; from then on the estimate holds.
    chunker.chunks(rows(200, 10_000));
    const chunks = chunker.chunks(rows(100, 10_000));
    expect(chunks.length).toBeGreaterThanOrEqual(12);
    for (const c of chunks) expect(c.length).toBeLessThan(128 * 1024);
    expect(
      parse(chunks)
        .flat()
        .map((r) => r.i),
    ).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('small rows share a chunk, up to 1,000 of them', () => {
    const chunker = new JsonChunker();
    chunker.chunks(rows(10, 10));
    const counts = parse(chunker.chunks(rows(2_500, 10))).map((c) => c.length);
    expect(counts).toEqual([1_000, 1_000, 500]);
  });

  it('does not split off a small rest: 200 rows estimated at 193 per chunk stay one parameter', () => {
    const chunker = new JsonChunker();
    chunker.chunks(rows(200, 320));
    expect(chunker.chunks(rows(200, 320))).toHaveLength(1);
    expect(parse(chunker.chunks(rows(400, 320))).map((c) => c.length)).toEqual([193, 207]);
  });

  it('follows the traffic: after large rows, small rows grow back towards the target', () => {
    const chunker = new JsonChunker();
    chunker.chunks(rows(50, 20_000));
    const first = parse(chunker.chunks(rows(400, 50))).map((c) => c.length);
    expect(first[0]).toBeLessThan(10);
    const later = parse(chunker.chunks(rows(400, 50))).map((c) => c.length);
    expect(later.length).toBeLessThanOrEqual(2);
  });
});
