import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { SESSION_ID_MAX_LENGTH } from '../common/limits';
import { type JsonText, eventJson, rawObjectJson } from '../common/event-view';
import type { EventPageDto, EventsQueryDto, SessionEventsQueryDto } from './events.dto';
import { DEFAULT_LIMIT, type Order } from './page.dto';
import type {
  RejectedEventDto,
  RejectedEventPageDto,
  RejectedEventsQueryDto,
  RejectedSummaryPageDto,
  RejectedSummaryQueryDto,
  SummaryGroupBy,
} from './rejected.dto';
import type { SessionPageDto, SessionsQueryDto } from './sessions.dto';
import { timeRange } from './time-range';
import { AnalyticsRepository, type EventFilter, type RejectedRow } from './analytics.repository';
import { EventTiers } from './event-tiers.service';
import { type KeyPart, decodeCursor, encodeCursor } from '../common/cursor';
import { type Page, textPage } from './json-page';

const TS_SEQ: readonly KeyPart[] = ['ts', 'seq'];
const TS_TEXT: readonly KeyPart[] = ['ts', 'text'];

/** Query side for analysts: validates the query, walks the keyset, shapes the page. */
/** Cursor shape of each summary grouping: a key it does not group by is '' (a 'key' part). */
const SUMMARY_CURSOR: Record<SummaryGroupBy, KeyPart[]> = {
  'reason,type': ['seq', 'text', 'text', 'text'],
  reason: ['seq', 'text', 'key', 'key'],
  type: ['seq', 'key', 'text', 'text'],
};

@Injectable()
export class AnalyticsService {
  constructor(
    private readonly repo: AnalyticsRepository,
    private readonly tiers: EventTiers,
  ) {}

  async sessionEvents(sessionId: string, query: SessionEventsQueryDto): Promise<JsonText<EventPageDto>> {
    if (sessionId.length < 1 || sessionId.length > SESSION_ID_MAX_LENGTH) {
      throw ApiError.validation([
        { path: '/session_id', message: `session_id must be 1-${SESSION_ID_MAX_LENGTH} characters` },
      ]);
    }
    return this.eventPage('session-events', { sessionId }, query.order ?? 'asc', query.limit, query.cursor);
  }

  events(query: EventsQueryDto): Promise<JsonText<EventPageDto>> {
    const filter = {
      sessionId: query.session_id,
      category: query.category,
      name: query.name,
      clientId: query.client_id,
      ...timeRange(query),
    };
    return this.eventPage('events', filter, query.order ?? 'asc', query.limit, query.cursor);
  }

  async sessions(query: SessionsQueryDto): Promise<SessionPageDto> {
    const order = query.order ?? 'asc';
    const range = timeRange(query);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = query.cursor ? pair(decodeCursor(query.cursor, 'sessions', order, TS_TEXT)) : null;
    const rows = await this.repo.sessions(range, order, after, limit + 1);
    return page(
      rows,
      limit,
      (r) => encodeCursor('sessions', order, [r.first_event_at, r.session_id]),
      (r) => ({
        session_id: r.session_id,
        first_event_at: r.first_event_at,
        last_event_at: r.last_event_at,
        event_count: Number(r.event_count),
        client_ids: r.client_ids,
      }),
    );
  }

  async rejectedSummary(query: RejectedSummaryQueryDto): Promise<RejectedSummaryPageDto> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const groupBy = query.group_by ?? 'reason,type';
    // A cursor belongs to one grouping: the default keeps the kind its cursors always had.
    const kind = groupBy === 'reason,type' ? 'rejected-summary' : `rejected-summary-${groupBy}`;
    const after = query.cursor ? decodeCursor(query.cursor, kind, 'asc', SUMMARY_CURSOR[groupBy]) : null;
    const rows = await this.repo.rejectedSummary(
      { clientId: query.client_id, ...timeRange(query) },
      groupBy,
      after,
      limit + 1,
    );
    return page(
      rows,
      limit,
      (r) => encodeCursor(kind, 'asc', [r.count, r.reason, r.category, r.name]),
      (r) =>
        groupBy === 'reason'
          ? { reason: r.reason, count: Number(r.count), last_rejected_at: r.last_rejected_at }
          : groupBy === 'type'
            ? {
                category: r.category,
                name: r.name,
                count: Number(r.count),
                last_rejected_at: r.last_rejected_at,
              }
            : { ...r, count: Number(r.count) },
    );
  }

  async rejected(query: RejectedEventsQueryDto): Promise<JsonText<RejectedEventPageDto>> {
    const order = query.order ?? 'desc';
    const filter = {
      reason: query.reason,
      clientId: query.client_id,
      category: query.category,
      name: query.name,
      ...timeRange(query),
    };
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = query.cursor ? pair(decodeCursor(query.cursor, 'rejected', order, TS_SEQ)) : null;
    const rows = await this.repo.rejected(filter, order, after, limit + 1);
    return textPage(
      rows,
      limit,
      (r) => encodeCursor('rejected', order, [r.rejected_at, r.seq]),
      rejectedJson,
    );
  }

  private async eventPage(
    kind: string,
    filter: EventFilter,
    order: Order,
    limitParam: number | undefined,
    cursor: string | undefined,
  ): Promise<JsonText<EventPageDto>> {
    const limit = limitParam ?? DEFAULT_LIMIT;
    const after = cursor ? pair(decodeCursor(cursor, kind, order, TS_SEQ)) : null;
    // Both tiers: the archived days' rows are merged into the hot ones (event-tiers.service.ts).
    const rows = await this.tiers.events(filter, order, after, limit + 1);
    return textPage(rows, limit, (r) => encodeCursor(kind, order, [r.timestamp, r.seq]), eventJson);
  }
}

/** A RejectedEventDto's JSON text: the stored errors and raw event spliced in as stored. */
function rejectedJson(r: RejectedRow): JsonText<RejectedEventDto> {
  return (
    `{"id":"${r.id}","reasons":${JSON.stringify(r.reasons)},"errors":${r.errors},` +
    `"event":${rawObjectJson(r.raw)},"received_at":"${r.received_at}","rejected_at":"${r.rejected_at}",` +
    `"client_id":${JSON.stringify(r.client_id)}}`
  );
}

/** `limit + 1` rows were fetched: the extra one only tells that there is a next page. */
function page<R, T>(rows: R[], limit: number, cursorOf: (row: R) => string, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), next_cursor: more ? cursorOf(kept[kept.length - 1]) : null };
}

function pair(p: string[]): [string, string] {
  return [p[0], p[1]];
}
