// The SQL pieces every repository shares: the one statement builder and the column renderings
// that keep the API's formats (microsecond timestamps, payloads as stored text).

/** Collects the `$n` parameters and the AND-ed WHERE conditions of one statement. */
export class Sql {
  readonly params: unknown[] = [];
  readonly where: string[] = [];

  /** Adds a parameter; returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  and(condition: string): this {
    this.where.push(condition);
    return this;
  }

  whereClause(): string {
    return this.where.length ? `WHERE ${this.where.join(' AND ')}` : '';
  }
}

/**
 * SQL expression rendering a timestamptz column as RFC 3339 UTC with 6 digits; use it in every
 * SELECT that returns a timestamp to a client (pg would otherwise parse it into a ms-only Date).
 */
export function sqlTimestamp(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** SELECT list producing an EventViewRow (common/event-view.ts) from `events` aliased as `e`. */
export const EVENT_VIEW_COLUMNS = `e.id::text AS id, e.session_id, e.category, e.name, e.data::text AS data,
  ${sqlTimestamp('e.timestamp')} AS timestamp, ${sqlTimestamp('e.received_at')} AS received_at, e.client_id`;
