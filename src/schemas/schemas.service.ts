import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { AuditService } from '../audit/audit.service';
import { ApiError } from '../common/api-error';
import { sqlTimestamp } from '../common/timestamp';
import { PG_POOL } from '../prisma/pg-pool';
import { REDIS } from '../redis/redis.module';
import { BUILTIN_SCHEMAS } from './builtin-schemas';
import type { EventSchemaDto } from './schemas.dto';
import { SCHEMAS_CHANGED_CHANNEL, SchemaCompileError, ValidatorRegistry } from './validator-registry';

const UNIQUE_VIOLATION = '23505';

/** Admin management of payload schemas: every PUT is a new version; no redeploy needed. */
@Injectable()
export class SchemasService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly registry: ValidatorRegistry,
    private readonly audit: AuditService,
  ) {}

  async put(category: string, name: string, schema: unknown, adminId: string): Promise<EventSchemaDto> {
    const errors = [];
    if (category.length < 1 || category.length > 100)
      errors.push({ path: 'category', message: 'must be 1-100 characters long' });
    if (name.length < 1 || name.length > 100)
      errors.push({ path: 'name', message: 'must be 1-100 characters long' });
    if (errors.length) throw ApiError.validation(errors);
    try {
      this.registry.compile(schema);
    } catch (err) {
      if (err instanceof SchemaCompileError)
        throw ApiError.validation(
          [{ path: '/', message: err.message }],
          'The body is not a valid JSON Schema',
        );
      throw err;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.pool.query<EventSchemaDto>(
          `INSERT INTO event_schemas (category, name, version, schema, created_by)
           SELECT $1::text, $2::text, coalesce(max(version), 0) + 1, $3::jsonb, $4::text FROM event_schemas WHERE category = $1::text AND name = $2::text
           RETURNING category, name, version, schema, created_by, ${sqlTimestamp('created_at')} AS created_at`,
          [category, name, JSON.stringify(schema), adminId],
        );
        // This process validates with it at once; the others hear it on Redis (or within 5 s).
        await this.registry.refresh();
        await this.redis.publish(SCHEMAS_CHANGED_CHANNEL, `${category}/${name}`).catch(() => undefined);
        await this.audit.record({
          actorClientId: adminId,
          action: 'schema.put',
          target: `${category}/${name}`,
          details: { category, name, version: res.rows[0].version },
        });
        return res.rows[0];
      } catch (err) {
        // Two PUTs of the same type at once: the loser takes the next version.
        if ((err as { code?: string }).code === UNIQUE_VIOLATION && attempt < 5) continue;
        throw err;
      }
    }
  }

  /** The schema in force for every type: admin versions over built-ins. */
  async list(): Promise<EventSchemaDto[]> {
    const res = await this.pool.query<EventSchemaDto>(
      `SELECT DISTINCT ON (category, name) category, name, version, schema, created_by,
              ${sqlTimestamp('created_at')} AS created_at
         FROM event_schemas ORDER BY category, name, version DESC`,
    );
    const custom = new Set(res.rows.map((r) => `${r.category}\u0001${r.name}`));
    const builtins: EventSchemaDto[] = BUILTIN_SCHEMAS.filter(
      (b) => !custom.has(`${b.category}\u0001${b.name}`),
    ).map((b) => ({
      category: b.category,
      name: b.name,
      version: 0,
      schema: b.schema,
      created_by: 'built-in',
      created_at: null,
    }));
    return [...builtins, ...res.rows].sort(
      (a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name),
    );
  }
}
