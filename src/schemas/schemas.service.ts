import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { AuditService } from '../audit/audit.service';
import { ApiError } from '../common/api-error';
import { EVENT_TYPE_PART_MAX_LENGTH } from '../common/limits';
import { REDIS } from '../redis/redis.module';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import { MAX_SCHEMA_BYTES, SchemaCompileError, SchemaCompiler } from './schema-compiler';
import type { EventSchemaDto } from './schemas.dto';
import { SchemasRepository } from './schemas.repository';
import { SCHEMAS_CHANGED_CHANNEL, ValidatorRegistry, typeKey } from './validator-registry';

const UNIQUE_VIOLATION = '23505';

const builtinDto = (b: (typeof BUILTIN_SCHEMAS)[number]): EventSchemaDto => ({
  category: b.category,
  name: b.name,
  version: 0,
  schema: b.schema,
  created_by: 'built-in',
  created_at: null,
});

/** Admin management of payload schemas: every PUT is a new version; no redeploy needed. */
@Injectable()
export class SchemasService {
  constructor(
    private readonly schemas: SchemasRepository,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly registry: ValidatorRegistry,
    private readonly compiler: SchemaCompiler,
    private readonly audit: AuditService,
  ) {}

  async put(category: string, name: string, schema: unknown, adminId: string): Promise<EventSchemaDto> {
    const errors = [];
    const max = EVENT_TYPE_PART_MAX_LENGTH;
    if (category.length < 1 || category.length > max)
      errors.push({ path: 'category', message: `must be 1-${max} characters long` });
    if (name.length < 1 || name.length > max)
      errors.push({ path: 'name', message: `must be 1-${max} characters long` });
    if (errors.length) throw ApiError.validation(errors);
    let validate;
    try {
      validate = await this.compiler.compile(schema, `${category}/${name}`);
    } catch (err) {
      if (!(err instanceof SchemaCompileError)) throw err;
      if (err.message.includes(`at most ${MAX_SCHEMA_BYTES}`))
        throw new ApiError(413, 'payload_too_large', `The schema is too large: ${err.message}`);
      throw ApiError.validation([{ path: '/', message: err.message }], 'The body is not a valid JSON Schema');
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.schemas.insertNextVersion(category, name, schema, adminId);
        // This process validates with it at once; the others hear it on Redis (or within 5 s).
        this.registry.install(category, name, row.version, validate);
        await this.redis.publish(SCHEMAS_CHANGED_CHANNEL, `${category}/${name}`).catch(() => undefined);
        await this.audit.record({
          actorClientId: adminId,
          action: 'schema.put',
          target: `${category}/${name}`,
          details: { category, name, version: row.version },
        });
        return row;
      } catch (err) {
        // Two PUTs of the same type at once: the loser takes the next version.
        if ((err as { code?: string }).code === UNIQUE_VIOLATION && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** The schema in force for every type: admin versions over built-ins. */
  async list(): Promise<EventSchemaDto[]> {
    const rows = await this.schemas.inForce();
    const custom = new Set(rows.map((r) => typeKey(r.category, r.name)));
    const builtins = BUILTIN_SCHEMAS.filter((b) => !custom.has(typeKey(b.category, b.name))).map(builtinDto);
    return [...builtins, ...rows].sort(
      (a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name),
    );
  }

  /** The schema in force for one type (newest admin version, else the built-in); 404 when it has none. */
  async get(category: string, name: string): Promise<EventSchemaDto> {
    const row = await this.schemas.inForceOf(category, name);
    if (row) return row;
    const builtin = BUILTIN_SCHEMAS.find((b) => b.category === category && b.name === name);
    if (builtin) return builtinDto(builtin);
    throw ApiError.notFound(
      `No schema for the type ${category}/${name}: events of it are accepted unless UNKNOWN_EVENT_TYPES=reject`,
    );
  }
}
