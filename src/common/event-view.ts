// Events leave the database as JSON text and reach the client as that same text: `data` is
// selected as `data::text` and spliced into the response, never parsed and re-serialized. A row
// whose payload nests thousands of levels (stored before the depth limit existed) would overflow
// the stack of JSON.stringify; splicing is also cheaper and tells each row's exact size in bytes.

import type { QueuedEvent } from '../queue/queue.contract';

/** A stored event as selected (prisma/sql.ts EVENT_VIEW_COLUMNS): `data` is the stored jsonb's text. */
export type EventViewRow = Omit<QueuedEvent, 'data' | 'rejected' | 'seq'> & { data: string };

/**
 * JSON text of a value of type T, built by splicing texts that are JSON already. The type
 * parameter only documents the shape (what Swagger describes); the route sends the text as is.
 */
export type JsonText<T> = string & { readonly __shape?: T };

/** A stored event's JSON text (the QueuedEvent fields): flat strings through JSON.stringify, the payload spliced as stored. */
export function eventJson(e: EventViewRow): JsonText<QueuedEvent> {
  return (
    `{"id":${JSON.stringify(e.id)},"session_id":${JSON.stringify(e.session_id)},` +
    `"category":${JSON.stringify(e.category)},"name":${JSON.stringify(e.name)},"data":${e.data},` +
    `"timestamp":"${e.timestamp}","received_at":"${e.received_at}","client_id":${JSON.stringify(e.client_id)}}`
  );
}

/**
 * A quarantined event's raw text as a JSON object: the text itself when it is one (checked with
 * JSON.parse, which does not recurse in V8, so any depth is fine), else `{"raw": "<text>"}`.
 */
export function rawObjectJson(raw: string): JsonText<Record<string, unknown>> {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return raw.trim();
  } catch {
    // not JSON: served as a string below, never a failed page
  }
  return `{"raw":${JSON.stringify(raw)}}`;
}
