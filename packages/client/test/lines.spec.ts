import { forEachLine } from '../src/lines';

async function collect(chunks: (string | Buffer)[], max = 100): Promise<[string | null, number][]> {
  const lines: [string | null, number][] = [];
  await forEachLine(chunks, max, (text, n) => {
    lines.push([text, n]);
  });
  return lines;
}

describe(forEachLine.name, () => {
  it('splits lines across chunk boundaries, accepts \\r\\n and a last line without newline', async () => {
    expect(await collect(['{"a":', '1}\r\n{"b"', ':2}\n\n', 'last'])).toEqual([
      ['{"a":1}', 1],
      ['{"b":2}', 2],
      ['', 3],
      ['last', 4],
    ]);
  });

  it('decodes a UTF-8 character split between two chunks', async () => {
    const bytes = Buffer.from('{"é":"€"}\n');
    expect(await collect([bytes.subarray(0, 3), bytes.subarray(3, 8), bytes.subarray(8)])).toEqual([
      ['{"é":"€"}', 1],
    ]);
  });

  it('reports an over-long line as null and goes on with the next one', async () => {
    const long = 'x'.repeat(250);
    expect(
      await collect(['ok\n', long.slice(0, 120), long.slice(120), '\nnext\n', `${long}\nend`], 100),
    ).toEqual([
      ['ok', 1],
      [null, 2],
      ['next', 3],
      [null, 4],
      ['end', 5],
    ]);
  });

  it('reads the next chunk only once the handler has caught up (bounded memory)', async () => {
    let pulled = 0;
    // A sync generator: `for await` pulls it one chunk at a time, like a file stream.
    function* source(): Generator<string> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield `line ${i}\n`;
      }
    }
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    const done = forEachLine(source(), 100, (_text, n) => (n === 3 ? blocked : undefined));
    await new Promise((r) => setTimeout(r, 50));
    expect(pulled).toBe(3);
    release();
    expect(await done).toBe(100);
    expect(pulled).toBe(100);
  });
});
