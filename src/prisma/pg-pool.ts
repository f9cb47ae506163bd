import { Pool } from 'pg';
import type { AppConfig } from '../config/config';

/** Injection token of the shared pg.Pool (SQL hot paths: event inserts, analytics). */
export const PG_POOL = Symbol('PG_POOL');

export function createPool(config: AppConfig): Pool {
  const pool = new Pool({
    connectionString: config.databaseUrl,
    // The worker's transactions are grouped (at most 2 in flight), so a small pool is enough.
    max: 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: `the-eye-${config.role}`,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
