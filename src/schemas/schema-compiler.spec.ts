import { MAX_SCHEMA_BYTES, SchemaCompileError, SchemaCompiler } from './schema-compiler';

describe(SchemaCompiler.name, () => {
  const sut = new SchemaCompiler();
  afterAll(() => sut.onModuleDestroy());

  it.each<[string, unknown]>([
    ['a misspelt type', { type: 'strnig' }],
    ['an unknown keyword (strict mode)', { type: 'string', minLenght: 1 }],
    ['an undeclared required property (strict mode)', { type: 'object', required: ['n'] }],
    ['a string', 'string'],
    ['an array', [{ type: 'string' }]],
    ['null', null],
    ['a number', 42],
  ])('refuses %s with a SchemaCompileError', async (_label, schema) => {
    await expect(sut.compile(schema)).rejects.toThrow(SchemaCompileError);
  });

  it('explains a non-object schema', async () => {
    await expect(sut.compile([])).rejects.toThrow('a JSON Schema must be a JSON object');
  });

  it('accepts draft-07 and 2020-12 documents with an $id', async () => {
    for (const $schema of [
      'http://json-schema.org/draft-07/schema#',
      'https://json-schema.org/draft/2020-12/schema',
    ]) {
      const validate = await sut.compile({
        $schema,
        $id: 'https://example.com/s',
        type: 'object',
        properties: { a: {} },
        required: ['a'],
      });
      expect(validate({ a: 1 })).toBe(true);
      expect(validate({})).toBe(false);
    }
  });

  it('supports formats', async () => {
    const validate = await sut.compile({ type: 'string', format: 'email' });
    expect(validate('john@example.com')).toBe(true);
    expect(validate('john')).toBe(false);
  });

  it('runs a catastrophic-backtracking pattern in linear time', async () => {
    const validate = await sut.compile({ type: 'string', pattern: '^(a+)+$' });
    const started = performance.now();
    // V8's backtracking engine takes tens of seconds on this input (and doubles per extra "a").
    expect(validate(`${'a'.repeat(5_000)}!`)).toBe(false);
    expect(validate('a'.repeat(5_000))).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('applies patternProperties with the same engine', async () => {
    const validate = await sut.compile({
      type: 'object',
      patternProperties: { '^x-(a+)+$': { type: 'number' } },
      additionalProperties: false,
    });
    expect(validate({ 'x-aaa': 1 })).toBe(true);
    expect(validate({ [`x-${'a'.repeat(5_000)}!`]: 1 })).toBe(false);
  });

  it('refuses a pattern RE2 cannot run in linear time, naming it', async () => {
    await expect(sut.compile({ type: 'string', pattern: '^(?=a)a+$' })).rejects.toThrow(
      'pattern "^(?=a)a+$" is refused: patterns use RE2 syntax',
    );
    await expect(sut.compile({ type: 'string', pattern: '(\\w+)\\1' })).rejects.toThrow(
      'pattern "(\\\\w+)\\\\1" is refused',
    );
  });

  it(`refuses a schema over ${MAX_SCHEMA_BYTES} bytes`, async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 3_000; i++) properties[`property_${i}`] = { type: 'string' };
    await expect(sut.compile({ type: 'object', properties })).rejects.toThrow(
      `at most ${MAX_SCHEMA_BYTES} are accepted`,
    );
  });

  it('abandons a compile that runs over its time budget, and compiles the next one on a fresh thread', async () => {
    const slow = new SchemaCompiler();
    slow.timeoutMs = 50;
    try {
      const properties: Record<string, unknown> = {};
      for (let i = 0; i < 1_200; i++) properties[`p${i}`] = { type: 'string', pattern: `^[a-z]+${i}$` };
      await expect(slow.compile({ type: 'object', properties, additionalProperties: false })).rejects.toThrow(
        'took longer than 50 ms to compile',
      );
      slow.timeoutMs = 10_000;
      const validate = await slow.compile({ type: 'integer' });
      expect(validate(3)).toBe(true);
    } finally {
      await slow.onModuleDestroy();
    }
  });

  it('keeps the event loop free while a large schema compiles', async () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 1_200; i++) properties[`p${i}`] = { type: 'string', pattern: `^[a-z]+${i}$` };
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    try {
      const validate = await sut.compile({ type: 'object', properties, additionalProperties: false });
      expect(validate({ p7: 'abc7' })).toBe(true);
      expect(validate({ p7: 'abc8' })).toBe(false);
    } finally {
      clearInterval(ticker);
    }
    const compileMs = performance.now() - started;
    // On this thread the loop would stall for the whole compile (seconds); off it, the longest gap
    // is only loading the result. Relative to the compile, so a busy machine does not fail it.
    expect(compileMs).toBeGreaterThan(500);
    expect(longestGap).toBeLessThan(compileMs / 3);
  });
});
