// Pages of rows that carry stored JSON (events, quarantined events) are built as JSON text: each
// row's text is spliced in as selected (see common/event-view.ts), which also gives its exact size,
// so a page stops at MAX_PAGE_BYTES as well as at `limit` rows.
import type { JsonText } from '../common/event-view';

/** Bytes of row JSON per page: a page of 1,000 large events stays a few MB, whatever was stored. */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * `{"data":[…],"next_cursor":…}` from rows fetched with `limit + 1` (the extra one only tells that
 * there is more). Stops before the row that would take the page over `maxBytes`, but always keeps
 * the first row so that a walk makes progress; next_cursor then points after the last row kept.
 */
export function textPage<R, T>(
  rows: readonly R[],
  limit: number,
  cursorOf: (row: R) => string,
  toText: (row: R) => JsonText<T>,
  maxBytes = MAX_PAGE_BYTES,
): JsonText<Page<T>> {
  const texts: string[] = [];
  let bytes = 0;
  const end = Math.min(rows.length, limit);
  for (let i = 0; i < end; i++) {
    const text = toText(rows[i]);
    const size = Buffer.byteLength(text) + 1;
    if (texts.length > 0 && bytes + size > maxBytes) break;
    texts.push(text);
    bytes += size;
  }
  const more = texts.length < rows.length;
  const next = more ? JSON.stringify(cursorOf(rows[texts.length - 1])) : 'null';
  return `{"data":[${texts.join(',')}],"next_cursor":${next}}`;
}
