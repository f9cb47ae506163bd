import { Pool, type QueryResultRow } from 'pg';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/config';
import { APP_DB_ROLE_OPTION } from '../prisma/pg-pool';

/** Injection token of the analytics pg.Pool: analysts' reads never take the worker's or /ready's connections. */
export const ANALYTICS_POOL = Symbol('ANALYTICS_POOL');

/** SQLSTATE 57014: the statement was cancelled, here by statement_timeout. */
export const QUERY_CANCELED = '57014';

export function createAnalyticsPool(config: AppConfig): Pool {
  const pool = new Pool({
    connectionString: config.databaseReadUrl,
    max: config.analyticsPoolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: `the-eye-analytics-${config.role}`,
    // Set by the server on every connection of this pool (replica included), so no query of an
    // analyst can hold a connection longer than this, whatever route or plan it takes.
    // JIT off: these are short index-driven queries whose large row estimates (funnels, stats)
    // made PostgreSQL spend ~100 ms compiling plans that then ran for a few ms.
    // The application's role (APP_DB_ROLE), as on every other connection of the service.
    options: `${APP_DB_ROLE_OPTION} -c statement_timeout=${config.analyticsStatementTimeoutMs} -c jit=off`,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A failed analytics query as the client should see it: a statement timeout is the analyst's
 * query being too broad (503 query_timeout saying how to narrow it); a pool that cannot hand out
 * a connection in time or a database that cannot be reached is a 503 to retry. Anything else is
 * rethrown as is (the global filter makes it a logged 500 without internals).
 */
export function analyticsQueryError(
  err: unknown,
  timeoutMs: number,
  setting = 'ANALYTICS_STATEMENT_TIMEOUT',
): unknown {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code === QUERY_CANCELED) {
    return new ApiError(
      503,
      'query_timeout',
      `The query ran longer than ${setting} (${timeoutMs} ms) and was stopped: narrow it ` +
        'with a smaller from/to range or a more selective filter (session_id, category and name, client_id), ' +
        'or use a smaller limit',
    );
  }
  if (
    typeof e?.message === 'string' &&
    (/timeout exceeded when trying to connect/i.test(e.message) || /ECONNREFUSED|ENOTFOUND/.test(e.message))
  ) {
    return ApiError.unavailable(
      'service_unavailable',
      'The analytics database is busy or unreachable; retry shortly',
      1,
    );
  }
  return err;
}

/** Runs one analytics statement; failures become what analyticsQueryError says. */
export async function analyticsQuery<R extends QueryResultRow>(
  pool: Pick<Pool, 'query'>,
  timeoutMs: number,
  sql: string,
  params: unknown[],
): Promise<R[]> {
  try {
    return (await pool.query<R>(sql, params)).rows;
  } catch (err) {
    throw analyticsQueryError(err, timeoutMs);
  }
}
