import { Pool } from 'pg';
import type { AppConfig } from '../config/config';

/** Injection token of the shared pg.Pool (SQL hot paths: event inserts, analytics). */
export const PG_POOL = Symbol('PG_POOL');

/**
 * The role every application connection takes at its start (created by the audit_owner_role
 * migration): all the data rights the service needs, but only INSERT and SELECT on audit_events,
 * which it does not own, so no code path of the service can disable the trail's trigger or
 * rewrite it. Migrations run without it (src/prisma/migrator.ts). Limits: docs/security.md.
 */
export const APP_DB_ROLE = 'the_eye_app';
export const APP_DB_ROLE_OPTION = `-c role=${APP_DB_ROLE}`;

export function createPool(config: AppConfig): Pool {
  const pool = new Pool({
    connectionString: config.databaseUrl,
    // The worker's transactions are grouped (at most 2 in flight), so a small pool is enough.
    max: 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: `the-eye-${config.role}`,
    options: APP_DB_ROLE_OPTION,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
