// The process's one embedded DuckDB (in memory; it reads the archive's Parquet files and writes
// new ones). Created on first use, not at boot: the engine's native library and buffers cost
// nothing to a process that never reads the archive. Both the library and the instance are
// loaded lazily for that reason (a top-level import would map the ~70 MB binding at start-up).
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { APP_CONFIG, type AppConfig } from '../config/config';

/** DuckDB's settings for this process, from the configuration (exported for its unit spec). */
export function duckDbOptions(config: AppConfig, cores = availableParallelism()): Record<string, string> {
  return {
    // Never more threads than cores: DuckDB shares the machine with the API and the worker.
    threads: String(Math.max(1, Math.min(cores, config.duckdbThreads))),
    memory_limit: config.duckdbMemoryLimit,
    // A sort or a staged day larger than memory_limit spills here, on the archive's own disk.
    temp_directory: join(resolve(config.archiveDir), '.duckdb-tmp'),
    // Everything needed (parquet, json, icu) is built in; never reach for the network.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
}

/**
 * An engine with no open connection for this long is closed: its buffer pool (up to
 * DUCKDB_MEMORY_LIMIT) would otherwise stay in the process's memory between archive reads.
 */
export const IDLE_CLOSE_MS = 30_000;

@Injectable()
export class DuckDbService implements OnApplicationShutdown {
  private instance: Promise<DuckDBInstance> | undefined;
  private open = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Whether the engine was started (tests check that nothing starts it at boot). */
  get started(): boolean {
    return this.instance !== undefined;
  }

  /** A new connection (one statement at a time each): the caller gives it back with `release`, see `use`. */
  async connect(): Promise<DuckDBConnection> {
    this.open++;
    clearTimeout(this.idleTimer);
    try {
      this.instance ??= this.create();
      return await (await this.instance).connect();
    } catch (err) {
      this.release();
      throw err;
    }
  }

  /** Closes a connection of `connect`; the engine itself closes once none is open for a while. */
  release(connection?: DuckDBConnection): void {
    connection?.closeSync();
    this.open = Math.max(0, this.open - 1);
    if (this.open > 0 || this.instance === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.open === 0) void this.close();
    }, IDLE_CLOSE_MS);
    this.idleTimer.unref();
  }

  /** Runs `fn` on a connection of its own, closed afterwards whatever happens. */
  async use<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    try {
      return await fn(connection);
    } finally {
      this.release(connection);
    }
  }

  onApplicationShutdown(): Promise<void> | void {
    clearTimeout(this.idleTimer);
    return this.close();
  }

  private close(): Promise<void> | void {
    const instance = this.instance;
    this.instance = undefined;
    if (instance) return instance.then((db) => db.closeSync()).catch(() => undefined);
  }

  private async create(): Promise<DuckDBInstance> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    try {
      const db = await DuckDBInstance.create(':memory:', duckDbOptions(this.config));
      const connection = await db.connect();
      try {
        // Archive files never change once renamed into place, so their footers (schema, row-group
        // statistics) can be kept between queries instead of re-read by each one. Settable only
        // once the parquet extension is loaded, hence not among the creation options.
        await connection.run('SET GLOBAL parquet_metadata_cache = true');
      } finally {
        connection.closeSync();
      }
      return db;
    } catch (err) {
      this.instance = undefined;
      throw err;
    }
  }
}
