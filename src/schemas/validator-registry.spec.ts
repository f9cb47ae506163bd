import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { SchemaCompiler } from './schema-compiler';
import type { SchemaRow, SchemasRepository } from './schemas.repository';
import { MAX_VIOLATIONS, type SchemaViolation, ValidatorRegistry } from './validator-registry';

/** A repository whose stamp() and inForce() answer the given values in turn. */
const stubRepository = (...answers: [string, SchemaRow[]][]) => {
  const stamp = jest.fn();
  const inForce = jest.fn();
  for (const [s, rows] of answers) {
    stamp.mockResolvedValueOnce(s);
    inForce.mockResolvedValueOnce(rows);
  }
  return { repository: { stamp, inForce } as unknown as SchemasRepository, stamp, inForce };
};

const compiler = new SchemaCompiler();
afterAll(() => compiler.onModuleDestroy());

/** The kept violations of a validation (null for a type with no schema). */
const violationsOf = (
  sut: ValidatorRegistry,
  category: string,
  name: string,
  data: unknown,
): SchemaViolation[] | null => sut.validate(category, name, data)?.violations ?? null;
const row = (
  version: number,
  schema: Record<string, unknown>,
  category = 'misc',
  name = 'ping',
): SchemaRow => ({
  category,
  name,
  version,
  schema,
  created_by: 'admin',
  created_at: null,
});

const config = { redisUrl: 'redis://127.0.0.1:6379/10' } as AppConfig;

const PAGEVIEW = { host: 'www.consumeraffairs.com', path: '/' };
const CTA_CLICK = { ...PAGEVIEW, element: 'chat bubble' };
const SUBMIT = { ...PAGEVIEW, form: { first_name: 'John', last_name: 'Doe' } };

describe(ValidatorRegistry.name, () => {
  describe('built-in schemas (onModuleInit)', () => {
    let sut: ValidatorRegistry;
    let stub: ReturnType<typeof stubRepository>;

    beforeAll(async () => {
      stub = stubRepository(['0:', []]);
      sut = new ValidatorRegistry(stub.repository, compiler, config);
      await sut.onModuleInit();
    });

    afterAll(() => sut.onApplicationShutdown());

    it('loads the stored schemas once at start-up', () => {
      expect(stub.stamp).toHaveBeenCalledTimes(1);
      expect(stub.inForce).toHaveBeenCalledTimes(1);
    });

    it('knows the three built-in types', () => {
      for (const b of BUILTIN_SCHEMAS) expect(sut.validate(b.category, b.name, {})).not.toBeNull();
      expect(BUILTIN_SCHEMAS).toHaveLength(3);
    });

    it('returns null for a type with no schema', () => {
      expect(violationsOf(sut, 'page interaction', 'scroll', {})).toBeNull();
    });

    it(`keeps at most ${MAX_VIOLATIONS} violations and counts the rest`, () => {
      const data: Record<string, unknown> = { ...PAGEVIEW };
      for (let i = 0; i < 5_000; i++) data[`extra_${i}`] = i;
      const result = sut.validate('page interaction', 'pageview', data);
      expect(result?.violations).toHaveLength(MAX_VIOLATIONS);
      expect(result?.violations[0]).toEqual({
        path: '/data/extra_0',
        message: 'is not allowed by the schema (unexpected value)',
      });
      expect(result?.omitted).toBe(5_000 - MAX_VIOLATIONS);
    });

    it.each([
      ['page interaction', 'pageview', PAGEVIEW],
      ['page interaction', 'cta click', CTA_CLICK],
      ['form interaction', 'submit', SUBMIT],
    ])('accepts the example payload of %s/%s', (category, name, data) => {
      expect(violationsOf(sut, category, name, data)).toEqual([]);
    });

    it('points at an extra property', () => {
      expect(violationsOf(sut, 'page interaction', 'pageview', { ...PAGEVIEW, color: 'red' })).toEqual([
        { path: '/data/color', message: 'is not allowed by the schema (unexpected value)' },
      ]);
    });

    it('points at a missing property', () => {
      expect(violationsOf(sut, 'page interaction', 'cta click', PAGEVIEW)).toEqual([
        { path: '/data/element', message: "must have required property 'element'" },
      ]);
    });

    it('reports every violation at once', () => {
      const paths = (
        violationsOf(sut, 'form interaction', 'submit', { path: 'no-slash', extra: 1 }) ?? []
      ).map((v) => v.path);
      expect(paths.sort()).toEqual(['/data/extra', '/data/form', '/data/host', '/data/path']);
    });

    it('points inside nested values', () => {
      expect(violationsOf(sut, 'form interaction', 'submit', { ...PAGEVIEW, form: { tags: ['a'] } })).toEqual(
        [{ path: '/data/form/tags', message: 'must be string,number,boolean,null' }],
      );
    });

    it('escapes ~ and / in the name of an extra property', () => {
      const paths = (
        violationsOf(sut, 'page interaction', 'pageview', { ...PAGEVIEW, 'a/b~c': 1 }) ?? []
      ).map((v) => v.path);
      expect(paths).toEqual(['/data/a~1b~0c']);
    });

    it.each([
      ['an empty host', { host: '', path: '/' }],
      ['a host with a slash', { host: 'a/b', path: '/' }],
      ['a host with a space', { host: 'a b', path: '/' }],
      ['a relative path', { host: 'a', path: 'x' }],
      ['a numeric host', { host: 1, path: '/' }],
      ['a non-object payload', 'www.consumeraffairs.com'],
    ])('refuses a pageview with %s', (_label, data) => {
      expect(violationsOf(sut, 'page interaction', 'pageview', data)).not.toEqual([]);
    });

    it('refuses a cta click with an empty element', () => {
      expect(violationsOf(sut, 'page interaction', 'cta click', { ...CTA_CLICK, element: '' })).toEqual([
        { path: '/data/element', message: 'must NOT have fewer than 1 characters' },
      ]);
    });
  });

  describe('refresh', () => {
    it('loads stored schemas', async () => {
      const { repository } = stubRepository([
        '1:t1',
        [row(2, { type: 'object', properties: { n: {} }, required: ['n'] })],
      ]);
      const sut = new ValidatorRegistry(repository, compiler, config);
      await sut.refresh();
      expect(violationsOf(sut, 'misc', 'ping', { n: 1 })).toEqual([]);
      expect(violationsOf(sut, 'misc', 'ping', {})).toEqual([
        { path: '/data/n', message: "must have required property 'n'" },
      ]);
    });

    it('does not reload when the stamp has not changed', async () => {
      const { repository, inForce } = stubRepository(['1:t1', [row(1, { type: 'object' })]], ['1:t1', []]);
      const sut = new ValidatorRegistry(repository, compiler, config);
      await sut.refresh();
      await sut.refresh();
      expect(inForce).toHaveBeenCalledTimes(1);
    });

    it('replaces a schema by a newer version when the stamp changes', async () => {
      const { repository } = stubRepository(
        ['1:t1', [row(1, { type: 'object' })]],
        ['2:t2', [row(2, { type: 'object', additionalProperties: false })]],
      );
      const sut = new ValidatorRegistry(repository, compiler, config);
      await sut.refresh();
      expect(violationsOf(sut, 'misc', 'ping', { x: 1 })).toEqual([]);
      await sut.refresh();
      expect(violationsOf(sut, 'misc', 'ping', { x: 1 })).toEqual([
        { path: '/data/x', message: 'is not allowed by the schema (unexpected value)' },
      ]);
    });

    it('keeps a version installed by this process instead of compiling it again', async () => {
      const { repository } = stubRepository([
        '1:t1',
        [row(3, { type: 'object', additionalProperties: false })],
      ]);
      const compile = jest.spyOn(compiler, 'compile');
      try {
        const sut = new ValidatorRegistry(repository, compiler, config);
        sut.install('misc', 'ping', 3, await compiler.compile({ type: 'object' }));
        compile.mockClear();
        await sut.refresh();
        expect(compile).not.toHaveBeenCalled();
        expect(violationsOf(sut, 'misc', 'ping', { x: 1 })).toEqual([]);
      } finally {
        compile.mockRestore();
      }
    });

    it('keeps the previous validator when a stored schema no longer compiles', async () => {
      const logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const { repository } = stubRepository(
          ['1:t1', [row(1, { type: 'object', properties: { n: {} }, required: ['n'] })]],
          ['2:t2', [row(2, { type: 'strnig' })]],
        );
        const sut = new ValidatorRegistry(repository, compiler, config);
        await sut.refresh();
        await sut.refresh();
        expect(violationsOf(sut, 'misc', 'ping', {})).toHaveLength(1);
        expect(logError).toHaveBeenCalledWith(expect.stringContaining('misc/ping v2 no longer compiles'));
      } finally {
        logError.mockRestore();
      }
    });

    it('lets a stored schema override a built-in one', async () => {
      const { repository } = stubRepository(
        ['0:', []],
        ['1:t1', [row(1, { type: 'object' }, 'page interaction', 'pageview')]],
      );
      const sut = new ValidatorRegistry(repository, compiler, config);
      await sut.onModuleInit();
      try {
        expect(violationsOf(sut, 'page interaction', 'pageview', { color: 'red' })).not.toEqual([]);
        await sut.refresh();
        expect(violationsOf(sut, 'page interaction', 'pageview', { color: 'red' })).toEqual([]);
      } finally {
        sut.onApplicationShutdown();
      }
    });
  });
});
