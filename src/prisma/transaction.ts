import type { Pool, PoolClient, QueryResult } from 'pg';

/**
 * Runs `fn` in a transaction on a connection of its own: `begin` (BEGIN with its options, and any
 * statements that must come first, sent as one simple query whose results `fn` receives), then
 * COMMIT. On failure the transaction is rolled back, and a connection that cannot even roll back
 * is discarded instead of going back to the pool.
 */
export async function inTransaction<T>(
  pool: Pool,
  fn: (db: PoolClient, begun: QueryResult[]) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const db = await pool.connect();
  let ok = false;
  try {
    const res = (await db.query(begin)) as QueryResult | QueryResult[];
    const result = await fn(db, Array.isArray(res) ? res : [res]);
    await db.query('COMMIT');
    ok = true;
    return result;
  } finally {
    const clean =
      ok ||
      (await db.query('ROLLBACK').then(
        () => true,
        () => false,
      ));
    db.release(!clean);
  }
}
