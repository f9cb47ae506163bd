// The fixed limits of the wire format, in one place: the request checks, the worker's re-check,
// the query DTOs and the API documentation all read them from here. The limits an operator can
// tune (MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_PAYLOAD_DEPTH, MAX_QUEUE_BACKLOG) are in config.ts.

/** `session_id`: 1-128 characters, chosen by the application. */
export const SESSION_ID_MAX_LENGTH = 128;
/** `category` and `name` (together the event type): 1-100 characters each. */
export const EVENT_TYPE_PART_MAX_LENGTH = 100;
/** Client ids: 1-64 characters (the clients table's primary key is VARCHAR(64)). */
export const CLIENT_ID_MAX_LENGTH = 64;
/** Client names: 1-200 characters (VARCHAR(200)). */
export const CLIENT_NAME_MAX_LENGTH = 200;
/** Events in one POST /v1/events/batch. */
export const MAX_BATCH_EVENTS = 1_000;
