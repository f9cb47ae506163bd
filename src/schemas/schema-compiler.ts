import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { RE2JS } from 're2js';
import { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { Worker } from 'node:worker_threads';

/** A compiled payload validator: Ajv's standalone function (errors on `.errors` after a failed call). */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: unknown[] | null;
}

export class SchemaCompileError extends Error {}

/** Schema documents above this are refused: compile time and validator size grow with it. */
export const MAX_SCHEMA_BYTES = 65_536;
/** A compile that runs longer is abandoned (its thread terminated) and the schema refused. */
export const COMPILE_TIMEOUT_MS = 15_000;

/** The module id the generated code asks for to get the pattern engine (resolved by `requireShim`). */
const PATTERN_MODULE = 'the-eye:linear-pattern';

/**
 * The pattern engine of admin schemas: RE2 semantics (linear in the input, never backtracking), in
 * plain JavaScript so compiled patterns are collected like any object. Compiled on first use: a
 * schema's patterns cost nothing until an event reaches them.
 */
function linearPattern(source: string): { test(text: string): boolean } {
  let compiled: RE2JS | undefined;
  return { test: (text) => (compiled ??= RE2JS.compile(source)).test(text) };
}

const requireFromHere = createRequire(__filename);

function requireShim(id: string): unknown {
  // The generated code only asks for Ajv's runtime helpers, ajv-formats' formats and the pattern engine.
  return id === PATTERN_MODULE ? linearPattern : requireFromHere(id);
}

interface CompileRequest {
  schema: unknown;
}
type CompileAnswer = { ok: true; source: string; cachedData: Uint8Array } | { ok: false; message: string };

/**
 * The worker thread's program (run with `eval`, so it is plain CommonJS at run time; module paths
 * come in workerData). It compiles with Ajv in strict mode, every pattern checked against RE2's
 * syntax, turns the validator into standalone code, compiles that code and runs it once so that V8's
 * code cache carries the compiled function: the main thread then loads it in milliseconds instead
 * of spending the compile (seconds for a large schema) on the event loop.
 */
function workerProgram(): void {
  /* eslint-disable @typescript-eslint/no-require-imports -- eval'd worker: CommonJS by construction */
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const { parentPort } = threads;
  const vm = require('node:vm') as typeof import('node:vm');
  const paths = threads.workerData as Record<'ajv' | 'formats' | 'standalone' | 're2js', string>;
  const Ajv2020 = (require(paths.ajv) as { default: typeof import('ajv/dist/2020').default }).default;
  const addFormats = (require(paths.formats) as { default: typeof import('ajv-formats').default }).default;
  const standalone = (require(paths.standalone) as { default: typeof import('ajv/dist/standalone').default })
    .default;
  const { RE2JS: Re2 } = require(paths.re2js) as typeof import('re2js');
  const checkPattern = Object.assign(
    (source: string) => {
      try {
        const re = Re2.compile(source);
        // Ajv keys the patterns it shares by toString(): it must tell patterns apart.
        return { test: (text: string) => re.test(text), toString: () => `/${source}/` };
      } catch (err) {
        throw new Error(
          `pattern ${JSON.stringify(source)} is refused: patterns use RE2 syntax, which runs in linear time ` +
            `and has no lookaround or backreferences (${(err as Error).message})`,
        );
      }
    },
    { code: 'require("the-eye:linear-pattern")' },
  );
  parentPort?.on('message', ({ schema }: { schema: unknown }) => {
    try {
      // A new Ajv per compile: nothing of a replaced schema stays cached in this thread.
      const ajv = addFormats(
        new Ajv2020({
          allErrors: true,
          strict: true,
          allowUnionTypes: true,
          code: { source: true, lines: false, regExp: checkPattern },
        }),
      );
      const source = `(function (require, module, exports) {${standalone(ajv, ajv.compile(schema as object))}\n})`;
      const script = new vm.Script(source);
      const module = { exports: {} as unknown };
      (script.runInThisContext() as (r: unknown, m: unknown, e: unknown) => void)(
        (id: string): unknown =>
          id === 'the-eye:linear-pattern' ? () => ({ test: () => true }) : (require(id) as unknown),
        module,
        module.exports,
      );
      (module.exports as (d: unknown) => boolean)({});
      parentPort.postMessage({ ok: true, source, cachedData: script.createCachedData() });
    } catch (err) {
      parentPort.postMessage({ ok: false, message: (err as Error).message });
    }
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * Compiles admin JSON Schemas off the event loop. Ajv's compile of a large schema takes seconds
 * (thousands of patterned properties), so it runs in a worker thread, one schema at a time, under
 * COMPILE_TIMEOUT_MS; the event loop only loads the result from V8's code cache (~15 ms for a
 * 64 KiB schema). Built-in schemas (written here, patterns known to be linear) do not come here.
 */
@Injectable()
export class SchemaCompiler implements OnModuleDestroy {
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** How long a compile may take (a field, not a constructor parameter: tests shorten it). */
  timeoutMs = COMPILE_TIMEOUT_MS;

  onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    return worker ? worker.terminate().then(() => undefined) : Promise.resolve();
  }

  /** Compiles one schema document; rejects with SchemaCompileError saying what to change. */
  compile(schema: unknown, label = 'schema'): Promise<CompiledValidator> {
    const result = this.queue.then(() => this.compileNow(schema, label));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async compileNow(schema: unknown, label: string): Promise<CompiledValidator> {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new SchemaCompileError('a JSON Schema must be a JSON object');
    }
    const bytes = Buffer.byteLength(JSON.stringify(schema));
    if (bytes > MAX_SCHEMA_BYTES) {
      throw new SchemaCompileError(
        `the schema is ${bytes} bytes; at most ${MAX_SCHEMA_BYTES} are accepted (split the type or simplify it)`,
      );
    }
    // Accept draft-07 and 2020-12 documents alike: the dialect marker only selects the meta-schema.
    const { $schema: _dialect, $id: _id, ...body } = schema as Record<string, unknown>;
    const answer = await this.ask({ schema: body });
    if (!answer.ok) throw new SchemaCompileError(answer.message);
    return instantiate(answer.source, answer.cachedData, label);
  }

  private ask(request: CompileRequest): Promise<CompileAnswer> {
    const worker = (this.worker ??= this.spawn());
    return new Promise<CompileAnswer>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      const onMessage = (answer: CompileAnswer): void => {
        done();
        resolve(answer);
      };
      const onExit = (): void => {
        done();
        reject(new SchemaCompileError('the schema compiler stopped unexpectedly; try again'));
      };
      const timer = setTimeout(() => {
        // The compile may never end: drop the thread, the next compile gets a fresh one.
        done();
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
        reject(
          new SchemaCompileError(
            `the schema took longer than ${this.timeoutMs} ms to compile; simplify it (fewer properties or patterns)`,
          ),
        );
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage(request);
    });
  }

  private spawn(): Worker {
    const worker = new Worker(`(${workerProgram.toString()})()`, {
      eval: true,
      workerData: {
        ajv: require.resolve('ajv/dist/2020'),
        formats: require.resolve('ajv-formats'),
        standalone: require.resolve('ajv/dist/standalone'),
        re2js: require.resolve('re2js'),
      },
    });
    worker.unref();
    const forget = (): void => {
      if (this.worker === worker) this.worker = undefined;
    };
    worker.on('error', forget);
    worker.on('exit', forget);
    return worker;
  }
}

/** Loads a compiled validator on this thread from its source and V8 code cache. */
function instantiate(source: string, cachedData: Uint8Array, label: string): CompiledValidator {
  const script = new Script(source, { filename: `schema:${label}`, cachedData: Buffer.from(cachedData) });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as (r: unknown, m: unknown, e: unknown) => void)(
    requireShim,
    module,
    module.exports,
  );
  return module.exports as CompiledValidator;
}
