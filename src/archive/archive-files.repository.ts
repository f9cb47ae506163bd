// The DuckDB statements that write the archive: a day's rows are appended to a temporary table
// of the writer's connection (it spills to DuckDB's temp_directory past memory_limit), then one
// COPY sorts them and writes the Parquet file. The file's columns and types are the archive's
// format (docs/storage.md); ARCHIVE_SELECT is its one definition.
import { Injectable } from '@nestjs/common';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ArchiveSourceRow } from './archive-source.repository';

/** Staging columns, in the order rows are appended (integers as BIGINT, timestamps as epoch µs). */
const STAGE_COLUMNS = [
  ['id', 'VARCHAR'],
  ['seq', 'BIGINT'],
  ['session_id', 'VARCHAR'],
  ['category', 'VARCHAR'],
  ['name', 'VARCHAR'],
  ['data', 'VARCHAR'],
  ['ts_us', 'BIGINT'],
  ['received_us', 'BIGINT'],
  ['client_id', 'VARCHAR'],
] as const;

/**
 * The archive's columns, from a staging table: `id` as UUID (16 bytes), timestamps as
 * TIMESTAMPTZ (Parquet INT64 TIMESTAMP(MICROS, UTC)), `data` as the stored JSON text.
 */
const ARCHIVE_SELECT = `SELECT id::UUID AS id, seq, session_id, category, name,
    timezone('UTC', make_timestamp(ts_us)) AS timestamp,
    timezone('UTC', make_timestamp(received_us)) AS received_at,
    client_id, data`;

/** The sort order of every file: a session's events are contiguous, so its timeline is one range. */
export const ARCHIVE_ORDER = 'session_id, timestamp, seq';

/** A string as a SQL literal (file paths cannot be bound as parameters of COPY). */
export function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

@Injectable()
export class ArchiveFilesRepository {
  /** Creates the staging table `table` on `connection` (temporary: gone with the connection). */
  async createStage(connection: DuckDBConnection, table: string): Promise<void> {
    const columns = STAGE_COLUMNS.map(([name, type]) => `${name} ${type} NOT NULL`).join(', ');
    await connection.run(`CREATE TEMP TABLE ${table} (${columns})`);
  }

  /** Appends rows to the staging table, one data chunk (≤ 2,048 rows, DuckDB's vector size) at a time. */
  async appendRows(connection: DuckDBConnection, table: string, rows: ArchiveSourceRow[]): Promise<void> {
    const { BIGINT, VARCHAR, DuckDBDataChunk } = await import('@duckdb/node-api');
    const types = STAGE_COLUMNS.map(([, type]) => (type === 'BIGINT' ? BIGINT : VARCHAR));
    const appender = await connection.createAppender(table, 'main', 'temp');
    try {
      for (let start = 0; start < rows.length; start += 2048) {
        const part = rows.slice(start, start + 2048);
        const chunk = DuckDBDataChunk.create(types, part.length);
        chunk.setColumns([
          part.map((r) => r.id),
          part.map((r) => BigInt(r.seq)),
          part.map((r) => r.session_id),
          part.map((r) => r.category),
          part.map((r) => r.name),
          part.map((r) => r.data),
          part.map((r) => BigInt(r.ts_us)),
          part.map((r) => BigInt(r.received_us)),
          part.map((r) => r.client_id),
        ]);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /** Writes the staging table, sorted, as one zstd Parquet file at `path`; returns its row count. */
  async copyToParquet(connection: DuckDBConnection, table: string, path: string): Promise<number> {
    const result = await connection.run(
      `COPY (${ARCHIVE_SELECT} FROM ${table} ORDER BY ${ARCHIVE_ORDER})
        TO ${sqlLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return Number(result.rowsChanged);
  }

  async dropStage(connection: DuckDBConnection, table: string): Promise<void> {
    await connection.run(`DROP TABLE IF EXISTS ${table}`);
  }
}
