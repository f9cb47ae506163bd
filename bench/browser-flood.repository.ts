// What bench/browser-flood.ts reads back from the service's database: the flooded client's stored
// events (events_client_time_idx leads with client_id).
import type { Client } from 'pg';

/** Events stored for `clientId`. */
export async function storedEvents(db: Client, clientId: string): Promise<number> {
  const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE client_id = $1', [
    clientId,
  ]);
  return r.rows[0].n;
}

/**
 * Events admitted per second as the service counted them (received_at is stamped as a request is let
 * in): the most in one second, and how many seconds had any.
 */
export async function admittedPerSecond(
  db: Client,
  clientId: string,
): Promise<{ max: number; seconds: number }> {
  const r = await db.query<{ max: number; seconds: number }>(
    `SELECT coalesce(max(n), 0)::int AS max, count(*)::int AS seconds FROM (
       SELECT count(*) AS n FROM events WHERE client_id = $1 GROUP BY date_trunc('second', received_at)) s`,
    [clientId],
  );
  return r.rows[0];
}
