import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import Redis from 'ioredis';
import { pointerToken } from '../common/json-pointer';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { redisOptionsFromUrl } from '../redis/redis-options';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { type CompiledValidator, SchemaCompiler } from './schema-compiler';
import { SchemasRepository } from './schemas.repository';

export const SCHEMAS_CHANGED_CHANNEL = 'the-eye:schemas';
const REFRESH_MS = 5_000;
/** Violations kept per event; the rest are only counted (an event with 400k bad keys stays small). */
export const MAX_VIOLATIONS = 20;

export interface SchemaViolation {
  path: string;
  message: string;
}

/** What a payload broke: at most MAX_VIOLATIONS violations, and how many more there were. */
export interface ValidationResult {
  violations: SchemaViolation[];
  omitted: number;
}

interface Entry {
  version: number;
  validate: CompiledValidator;
}

/** The registry's key of an event type. */
export const typeKey = (category: string, name: string): string => `${category}\u0001${name}`;

/**
 * Payload validators keyed by event type (category, name). Built-ins are compiled at start-up on
 * this thread (their patterns are written here and linear, so they keep V8's fast engine) and a
 * built-in that does not compile stops the boot. Schemas PUT by admins (newest version wins) are
 * compiled off the event loop by SchemaCompiler with linear-time patterns, and loaded from
 * PostgreSQL at start-up, when another process announces a change on Redis, and every 5 s. A
 * replaced validator is simply dropped: nothing else holds it.
 */
@Injectable()
export class ValidatorRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ValidatorRegistry.name);
  private readonly builtins = new Map<string, Entry>();
  private readonly custom = new Map<string, Entry>();
  private lastSeen = '';
  private timer: NodeJS.Timeout | undefined;
  private subscriber: Redis | undefined;

  constructor(
    private readonly schemas: SchemasRepository,
    private readonly compiler: SchemaCompiler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }));
    for (const b of BUILTIN_SCHEMAS) {
      const key = typeKey(b.category, b.name);
      if (this.builtins.has(key)) throw new Error(`Two built-in schemas for ${b.category}/${b.name}`);
      try {
        this.builtins.set(key, { version: 0, validate: ajv.compile(b.schema) });
      } catch (err) {
        throw new Error(
          `Built-in schema ${b.category}/${b.name} does not compile: ${(err as Error).message}`,
        );
      }
    }
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), REFRESH_MS);
    this.timer.unref();
    const sub = new Redis({ ...redisOptionsFromUrl(this.config.redisUrl), maxRetriesPerRequest: null });
    this.subscriber = sub;
    sub.on('error', () => undefined);
    sub.on('ready', () => void sub.subscribe(SCHEMAS_CHANGED_CHANNEL).catch(() => undefined));
    sub.on('message', () => void this.refresh().catch(() => undefined));
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.subscriber?.disconnect();
  }

  /** Uses `validate` for a version this process compiled itself (PUT), sparing a second compile. */
  install(category: string, name: string, version: number, validate: CompiledValidator): void {
    const key = typeKey(category, name);
    if ((this.custom.get(key)?.version ?? 0) < version) this.custom.set(key, { version, validate });
  }

  /** Reloads admin schemas if the table changed since the last look. */
  async refresh(): Promise<void> {
    const stamp = await this.schemas.stamp();
    if (stamp === this.lastSeen) return;
    for (const r of await this.schemas.inForce()) {
      const key = typeKey(r.category, r.name);
      if ((this.custom.get(key)?.version ?? 0) >= r.version) continue;
      try {
        const validate = await this.compiler.compile(r.schema, `${r.category}/${r.name}@${r.version}`);
        this.install(r.category, r.name, r.version, validate);
      } catch (err) {
        // Stored schemas compiled before they were accepted; a failure here means a newer Ajv
        // disagrees. Keep the previous validator rather than accepting everything.
        this.logger.error(
          `schema ${r.category}/${r.name} v${r.version} no longer compiles: ${(err as Error).message}`,
        );
      }
    }
    this.lastSeen = stamp;
  }

  /** Violations of the type's schema (none when valid); null for a type with no schema. */
  validate(category: string, name: string, data: unknown): ValidationResult | null {
    const key = typeKey(category, name);
    const entry = this.custom.get(key) ?? this.builtins.get(key);
    if (!entry) return null;
    if (entry.validate(data)) return { violations: [], omitted: 0 };
    const errors = (entry.validate.errors ?? []) as ErrorObject[];
    return {
      violations: errors.slice(0, MAX_VIOLATIONS).map(toViolation),
      omitted: Math.max(0, errors.length - MAX_VIOLATIONS),
    };
  }
}

function toViolation(e: ErrorObject): SchemaViolation {
  // Point at the offending property itself for additionalProperties / required.
  const params = e.params as { additionalProperty?: string; missingProperty?: string };
  const extra = params.additionalProperty ?? params.missingProperty;
  const path = `/data${e.instancePath}${extra !== undefined ? `/${pointerToken(extra)}` : ''}`;
  const message =
    params.additionalProperty !== undefined
      ? 'is not allowed by the schema (unexpected value)'
      : (e.message ?? 'is invalid');
  return { path, message };
}
