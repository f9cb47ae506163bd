// Opaque keyset cursors: base64url of a small JSON document naming the list it belongs to, the
// order it was issued for, and the sort key of the last row returned. Anything that does not
// decode to exactly that shape (truncated, edited, from another list or order) is a 400.
import { ApiError } from './api-error';
import { SESSION_ID_MAX_LENGTH } from './limits';
import { formatMicros, parseTimestamp } from './timestamp';
import { UNSTORABLE_RE } from './unstorable';

/** The orders a keyset list can be read in; a cursor is valid for the one it was issued for. */
export const ORDERS = ['asc', 'desc'] as const;
export type Order = (typeof ORDERS)[number];

/**
 * Kinds of sort-key component: an RFC 3339 µs timestamp, a bigint sequence (or count), a text
 * value (1-128 characters), or a key that may also be empty (0-128).
 */
export type KeyPart = 'ts' | 'seq' | 'text' | 'key';

interface CursorDoc {
  v: 1;
  k: string;
  o: Order;
  p: string[];
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;
const SEQ_RE = /^(0|[1-9]\d{0,18})$/;

export function encodeCursor(kind: string, order: Order, position: string[]): string {
  const doc: CursorDoc = { v: 1, k: kind, o: order, p: position };
  return Buffer.from(JSON.stringify(doc)).toString('base64url');
}

function invalid(message = 'is not a cursor returned by this list'): ApiError {
  return ApiError.validation([{ path: '/cursor', message: `cursor ${message}` }], 'Invalid cursor');
}

function validPart(part: KeyPart, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  switch (part) {
    case 'ts': {
      const micros = parseTimestamp(value);
      return micros !== null && formatMicros(micros) === value;
    }
    case 'seq':
      return SEQ_RE.test(value) && BigInt(value) <= MAX_BIGINT;
    case 'text':
      // Decoded from base64, so the global string check never saw these two kinds.
      return value.length >= 1 && value.length <= SESSION_ID_MAX_LENGTH && !UNSTORABLE_RE.test(value);
    case 'key':
      return value.length <= SESSION_ID_MAX_LENGTH && !UNSTORABLE_RE.test(value);
  }
}

/** The sort key carried by `text`, checked against the list kind, the order and the key shape. */
export function decodeCursor(text: string, kind: string, order: Order, shape: readonly KeyPart[]): string[] {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid();
  const { v, k, o, p } = doc as Partial<CursorDoc>;
  if (v !== 1 || k !== kind || !Array.isArray(p) || p.length !== shape.length) throw invalid();
  if (o !== 'asc' && o !== 'desc') throw invalid();
  if (o !== order) throw invalid(`was issued for order=${String(o)}; repeat the request with that order`);
  if (!shape.every((part, i) => validPart(part, p[i]))) throw invalid();
  return p;
}
