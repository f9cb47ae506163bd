import { sqlTimestamp } from './timestamp';

/** An event as the API returns it (snake_case, timestamps RFC 3339 UTC with 6 digits). */
export interface EventView {
  id: string;
  session_id: string;
  category: string;
  name: string;
  data: Record<string, unknown>;
  timestamp: string;
  received_at: string;
  client_id: string;
}

/** SELECT list producing an EventView from `events` aliased as `e`. */
export const EVENT_VIEW_COLUMNS = `e.id::text AS id, e.session_id, e.category, e.name, e.data,
  ${sqlTimestamp('e.timestamp')} AS timestamp, ${sqlTimestamp('e.received_at')} AS received_at, e.client_id`;
