import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { eventJson } from '../common/event-view';
import type { EventFilter, EventRow } from './analytics.repository';
import { EventTiers } from './event-tiers.service';
import type { ExportQueryDto } from './events.dto';
import { HeavyReads } from './heavy-reads';
import { timeRange } from './time-range';

/** Rows per hot query: each chunk is its own keyset query (bounded by the statement timeout). */
const CHUNK_ROWS = 1000;

const CSV_COLUMNS = ['id', 'session_id', 'category', 'name', 'timestamp', 'received_at', 'client_id', 'data'];

/** What a spreadsheet runs as a formula when a cell starts with it (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 field: quoted when it holds a comma, a quote or a line break; quotes doubled. A cell a
 * spreadsheet would run as a formula gets a leading `'`, which makes it text. Applied to every cell:
 * the envelope's text columns are the sender's; `data` is JSON and starts with `{`, so it is never
 * touched (strings inside it are not cells).
 */
function csvField(value: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(e: EventRow): string {
  return (
    [e.id, e.session_id, e.category, e.name, e.timestamp, e.received_at, e.client_id, e.data]
      .map(csvField)
      .join(',') + '\r\n'
  );
}

function ndjsonLine(e: EventRow): string {
  return `${eventJson(e)}\n`;
}

export interface ExportStream {
  stream: Readable;
  contentType: string;
  filename: string;
}

/**
 * Every event matching the filters of GET /v1/events, both tiers merged in order
 * (EventTiers.exportChunks), streamed: the next chunk is read only when the socket has taken the
 * previous one (Readable.from pulls on demand), so memory holds about one chunk however many rows
 * match, and no PostgreSQL connection is held while the client reads.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly tiers: EventTiers,
    private readonly heavy: HeavyReads,
  ) {}

  /**
   * `clientId`: the analyst asking. The export holds one of its HeavyReads slots from the first
   * query until the stream closes: read to the end, failed, or destroyed when the client went away.
   */
  async export(query: ExportQueryDto, clientId: string): Promise<ExportStream> {
    const format = query.format ?? 'ndjson';
    const order = query.order ?? 'asc';
    const filter: EventFilter = {
      sessionId: query.session_id,
      category: query.category,
      name: query.name,
      clientId: query.client_id,
      ...timeRange(query),
    };
    const release = this.heavy.acquire(clientId);
    const rows = this.tiers.exportChunks(filter, order, CHUNK_ROWS, (read) =>
      this.heavy.statement(clientId, read),
    );
    // The first chunk is read before answering, so a bad or too-broad query is still a clean 4xx/503.
    let first: IteratorResult<EventRow[]>;
    try {
      first = await rows.next();
    } catch (err) {
      release();
      throw err;
    }
    const line = format === 'csv' ? csvLine : ndjsonLine;
    async function* chunks(): AsyncGenerator<string> {
      if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
      if (first.done) return;
      yield first.value.map(line).join('');
      for await (const chunk of rows) yield chunk.map(line).join('');
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
    const stream = Readable.from(chunks(), { objectMode: false });
    // 'close' follows the end, an error and a destroy() (Fastify destroys it when the socket closes).
    stream.once('close', () => {
      release();
      // A stream destroyed before its first pull never ran chunks(): end the walk (and its DuckDB
      // connection) here.
      void rows.return(undefined).catch(() => undefined);
    });
    return {
      stream,
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      filename: `events-${stamp}Z.${format}`,
    };
  }
}
