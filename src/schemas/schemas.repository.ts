import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { sqlTimestamp } from '../prisma/sql';
import { PG_POOL } from '../prisma/pg-pool';

/** A stored schema version as the API returns it. */
export interface SchemaRow {
  category: string;
  name: string;
  version: number;
  schema: Record<string, unknown>;
  created_by: string;
  created_at: string | null;
}

const COLUMNS = `category, name, version, schema, created_by, ${sqlTimestamp('created_at')} AS created_at`;

/** event_schemas: one row per PUT; the newest version of a type is the one in force. */
@Injectable()
export class SchemasRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Adds the next version of a type. Two PUTs of one type at once collide on the primary key
   * (category, name, version): the caller retries (SQLSTATE 23505).
   */
  async insertNextVersion(
    category: string,
    name: string,
    schema: unknown,
    createdBy: string,
  ): Promise<SchemaRow> {
    const res = await this.pool.query<SchemaRow>(
      `INSERT INTO event_schemas (category, name, version, schema, created_by)
       SELECT $1::text, $2::text, coalesce(max(version), 0) + 1, $3::jsonb, $4::text
         FROM event_schemas WHERE category = $1::text AND name = $2::text
       RETURNING ${COLUMNS}`,
      [category, name, JSON.stringify(schema), createdBy],
    );
    return res.rows[0];
  }

  /** The newest version of every type (event_schemas_pkey, read backwards per type). */
  async inForce(): Promise<SchemaRow[]> {
    const res = await this.pool.query<SchemaRow>(
      `SELECT DISTINCT ON (category, name) ${COLUMNS} FROM event_schemas ORDER BY category, name, version DESC`,
    );
    return res.rows;
  }

  /** The newest version of one type, or null. */
  async inForceOf(category: string, name: string): Promise<SchemaRow | null> {
    const res = await this.pool.query<SchemaRow>(
      `SELECT ${COLUMNS} FROM event_schemas WHERE category = $1 AND name = $2 ORDER BY version DESC LIMIT 1`,
      [category, name],
    );
    return res.rows[0] ?? null;
  }

  /** Changes whenever a version is added: lets every process skip a reload when nothing changed. */
  async stamp(): Promise<string> {
    const res = await this.pool.query<{ stamp: string }>(
      "SELECT count(*)::text || ':' || coalesce(max(created_at)::text, '') AS stamp FROM event_schemas",
    );
    return res.rows[0].stamp;
  }
}
