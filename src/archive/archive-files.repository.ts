// The DuckDB statement that writes the archive: a day's rows, as PostgreSQL's CSV, are read, sorted
// (spilling to DuckDB's temp_directory past memory_limit) and written as the Parquet file by one
// COPY. The file's columns and types are the archive's
// format (docs/storage.md); ARCHIVE_SELECT is its one definition.
import { Injectable } from '@nestjs/common';
import type { DuckDBConnection } from '@duckdb/node-api';

/** The CSV's columns, in ArchiveSourceRepository's order (integers as BIGINT, timestamps as epoch µs). */
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
 * The archive's columns, from the CSV's: `id` as UUID (16 bytes), timestamps as
 * TIMESTAMPTZ (Parquet INT64 TIMESTAMP(MICROS, UTC)), `data` as the stored JSON text.
 */
const ARCHIVE_SELECT = `SELECT id::UUID AS id, seq, session_id, category, name,
    timezone('UTC', make_timestamp(ts_us)) AS timestamp,
    timezone('UTC', make_timestamp(received_us)) AS received_at,
    client_id, data`;

/** The sort order of every file: a session's events are contiguous, so its timeline is one range. */
export const ARCHIVE_ORDER = 'session_id, timestamp, seq';

/** DuckDB's own default longest CSV line (a row of the day here). */
const DEFAULT_MAX_LINE_BYTES = 2_097_152;

/** A string as a SQL literal (file paths cannot be bound as parameters of COPY). */
export function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

@Injectable()
export class ArchiveFilesRepository {
  /**
   * Writes a day's rows from PostgreSQL's CSV (ArchiveSourceRepository.copyDayCsv, columns in
   * STAGE_COLUMNS order), sorted, as one zstd Parquet file at `path`; returns its row count.
   */
  async csvToParquet(
    connection: DuckDBConnection,
    csv: string,
    path: string,
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ): Promise<number> {
    const lineBytes = Math.max(DEFAULT_MAX_LINE_BYTES, Math.ceil(maxLineBytes));
    const columns = `{${STAGE_COLUMNS.map(([name, type]) => `'${name}': '${type}'`).join(', ')}}`;
    const result = await connection.run(
      `COPY (${ARCHIVE_SELECT} FROM read_csv(${sqlLiteral(csv)}, columns = ${columns}, header = false,
          auto_detect = false, delim = ',', quote = '"', escape = '"',
          max_line_size = ${lineBytes}, buffer_size = ${Math.max(16 * DEFAULT_MAX_LINE_BYTES, 2 * lineBytes)})
          ORDER BY ${ARCHIVE_ORDER})
        TO ${sqlLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    return Number(result.rowsChanged);
  }
}
