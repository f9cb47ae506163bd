import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import type { AppConfig } from '../config/config';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { SchemaCompileError, ValidatorRegistry } from './validator-registry';

type Rows = { rows: unknown[] };

const stubPool = (...answers: Rows[]): { pool: Pool; query: jest.Mock } => {
  const query = jest.fn();
  for (const a of answers) query.mockResolvedValueOnce(a);
  return { pool: { query } as unknown as Pool, query };
};

const config = { redisUrl: 'redis://127.0.0.1:6379/10' } as AppConfig;

const PAGEVIEW = { host: 'www.consumeraffairs.com', path: '/' };
const CTA_CLICK = { ...PAGEVIEW, element: 'chat bubble' };
const SUBMIT = { ...PAGEVIEW, form: { first_name: 'John', last_name: 'Doe' } };

describe(ValidatorRegistry.name, () => {
  describe('compile', () => {
    const sut = new ValidatorRegistry(stubPool().pool, config);

    it.each<[string, unknown]>([
      ['a misspelt type', { type: 'strnig' }],
      ['an unknown keyword (strict mode)', { type: 'string', minLenght: 1 }],
      ['an undeclared required property (strict mode)', { type: 'object', required: ['n'] }],
      ['a string', 'string'],
      ['an array', [{ type: 'string' }]],
      ['null', null],
      ['a number', 42],
    ])('refuses %s with a SchemaCompileError', (_label, schema) => {
      expect(() => sut.compile(schema)).toThrow(SchemaCompileError);
    });

    it('explains a non-object schema', () => {
      expect(() => sut.compile([])).toThrow('a JSON Schema must be a JSON object');
    });

    it('accepts draft-07 and 2020-12 documents with an $id', () => {
      for (const $schema of [
        'http://json-schema.org/draft-07/schema#',
        'https://json-schema.org/draft/2020-12/schema',
      ]) {
        const validate = sut.compile({
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

    it('supports formats', () => {
      const validate = sut.compile({ type: 'string', format: 'email' });
      expect(validate('john@example.com')).toBe(true);
      expect(validate('john')).toBe(false);
    });
  });

  describe('built-in schemas (onModuleInit)', () => {
    let sut: ValidatorRegistry;
    let query: jest.Mock;

    beforeAll(async () => {
      const stub = stubPool({ rows: [{ stamp: '0:' }] }, { rows: [] });
      query = stub.query;
      sut = new ValidatorRegistry(stub.pool, config);
      await sut.onModuleInit();
    });

    afterAll(() => sut.onApplicationShutdown());

    it('loads the stored schemas once at start-up', () => {
      expect(query).toHaveBeenCalledTimes(2);
    });

    it('knows the three built-in types at version 0', () => {
      for (const b of BUILTIN_SCHEMAS) {
        expect(sut.has(b.category, b.name)).toBe(true);
        expect(sut.versionOf(b.category, b.name)).toBe(0);
      }
      expect(BUILTIN_SCHEMAS).toHaveLength(3);
    });

    it('returns null for a type with no schema', () => {
      expect(sut.has('page interaction', 'scroll')).toBe(false);
      expect(sut.validate('page interaction', 'scroll', {})).toBeNull();
      expect(sut.versionOf('page interaction', 'scroll')).toBeNull();
    });

    it.each([
      ['page interaction', 'pageview', PAGEVIEW],
      ['page interaction', 'cta click', CTA_CLICK],
      ['form interaction', 'submit', SUBMIT],
    ])('accepts the example payload of %s/%s', (category, name, data) => {
      expect(sut.validate(category, name, data)).toEqual([]);
    });

    it('points at an extra property', () => {
      expect(sut.validate('page interaction', 'pageview', { ...PAGEVIEW, color: 'red' })).toEqual([
        { path: '/data/color', message: 'is not allowed by the schema (unexpected value)' },
      ]);
    });

    it('points at a missing property', () => {
      expect(sut.validate('page interaction', 'cta click', PAGEVIEW)).toEqual([
        { path: '/data/element', message: "must have required property 'element'" },
      ]);
    });

    it('reports every violation at once', () => {
      const paths = (sut.validate('form interaction', 'submit', { path: 'no-slash', extra: 1 }) ?? []).map(
        (v) => v.path,
      );
      expect(paths.sort()).toEqual(['/data/extra', '/data/form', '/data/host', '/data/path']);
    });

    it('points inside nested values', () => {
      expect(sut.validate('form interaction', 'submit', { ...PAGEVIEW, form: { tags: ['a'] } })).toEqual([
        { path: '/data/form/tags', message: 'must be string,number,boolean,null' },
      ]);
    });

    it('escapes ~ and / in the name of an extra property', () => {
      const paths = (sut.validate('page interaction', 'pageview', { ...PAGEVIEW, 'a/b~c': 1 }) ?? []).map(
        (v) => v.path,
      );
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
      expect(sut.validate('page interaction', 'pageview', data)).not.toEqual([]);
    });

    it('refuses a cta click with an empty element', () => {
      expect(sut.validate('page interaction', 'cta click', { ...CTA_CLICK, element: '' })).toEqual([
        { path: '/data/element', message: 'must NOT have fewer than 1 characters' },
      ]);
    });
  });

  describe('refresh', () => {
    const stamp = (s: string): Rows => ({ rows: [{ stamp: s }] });
    const row = (version: number, schema: unknown, category = 'misc', name = 'ping') => ({
      category,
      name,
      version,
      schema,
    });

    it('loads stored schemas and reports their version', async () => {
      const { pool } = stubPool(stamp('1:t1'), {
        rows: [row(2, { type: 'object', properties: { n: {} }, required: ['n'] })],
      });
      const sut = new ValidatorRegistry(pool, config);
      await sut.refresh();
      expect(sut.versionOf('misc', 'ping')).toBe(2);
      expect(sut.validate('misc', 'ping', { n: 1 })).toEqual([]);
      expect(sut.validate('misc', 'ping', {})).toEqual([
        { path: '/data/n', message: "must have required property 'n'" },
      ]);
    });

    it('does not reload when the stamp has not changed', async () => {
      const { pool, query } = stubPool(stamp('1:t1'), { rows: [row(1, { type: 'object' })] }, stamp('1:t1'));
      const sut = new ValidatorRegistry(pool, config);
      await sut.refresh();
      await sut.refresh();
      expect(query).toHaveBeenCalledTimes(3);
    });

    it('replaces a schema by a newer version when the stamp changes', async () => {
      const { pool } = stubPool(stamp('1:t1'), { rows: [row(1, { type: 'object' })] }, stamp('2:t2'), {
        rows: [row(2, { type: 'object', additionalProperties: false })],
      });
      const sut = new ValidatorRegistry(pool, config);
      await sut.refresh();
      expect(sut.validate('misc', 'ping', { x: 1 })).toEqual([]);
      await sut.refresh();
      expect(sut.versionOf('misc', 'ping')).toBe(2);
      expect(sut.validate('misc', 'ping', { x: 1 })).toEqual([
        { path: '/data/x', message: 'is not allowed by the schema (unexpected value)' },
      ]);
    });

    it('keeps the previous validator when a stored schema no longer compiles', async () => {
      const logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const { pool } = stubPool(
          stamp('1:t1'),
          { rows: [row(1, { type: 'object', properties: { n: {} }, required: ['n'] })] },
          stamp('2:t2'),
          { rows: [row(2, { type: 'strnig' })] },
        );
        const sut = new ValidatorRegistry(pool, config);
        await sut.refresh();
        await sut.refresh();
        expect(sut.versionOf('misc', 'ping')).toBe(1);
        expect(sut.validate('misc', 'ping', {})).toHaveLength(1);
        expect(logError).toHaveBeenCalledWith(expect.stringContaining('misc/ping v2 no longer compiles'));
      } finally {
        logError.mockRestore();
      }
    });

    it('lets a stored schema override a built-in one', async () => {
      const { pool } = stubPool(stamp('0:'), { rows: [] }, stamp('1:t1'), {
        rows: [row(1, { type: 'object' }, 'page interaction', 'pageview')],
      });
      const sut = new ValidatorRegistry(pool, config);
      await sut.onModuleInit();
      try {
        expect(sut.validate('page interaction', 'pageview', { color: 'red' })).not.toEqual([]);
        await sut.refresh();
        expect(sut.versionOf('page interaction', 'pageview')).toBe(1);
        expect(sut.validate('page interaction', 'pageview', { color: 'red' })).toEqual([]);
      } finally {
        sut.onApplicationShutdown();
      }
    });
  });
});
