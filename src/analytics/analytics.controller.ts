import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../auth/auth.decorators';
import type { JsonText } from '../common/event-view';
import { ApiErrors } from '../common/swagger';
import { AnalyticsService } from './analytics.service';
import { EventPageDto, EventsQueryDto, SessionEventsQueryDto } from './events.dto';
import {
  RejectedEventPageDto,
  RejectedEventsQueryDto,
  RejectedSummaryPageDto,
  RejectedSummaryQueryDto,
} from './rejected.dto';
import { SessionPageDto, SessionsQueryDto } from './sessions.dto';
import { StatsPageDto, StatsQueryDto } from './stats.dto';
import { StatsService } from './stats.service';
import { SESSION_ID_MAX_LENGTH } from '../common/limits';

/** Routes answering JSON text built from stored JSON (json-page.ts) say so themselves. */
const JSON_TEXT = 'application/json; charset=utf-8';

// GET /v1/events/{id} and POST /v1/events live in the ingestion controller; this one only lists.
@ApiTags('analytics')
@ApiErrors(400, 401, 403, { status: 503, examples: ['query_timeout', 'service_unavailable'] })
@Scopes('events:read')
@Controller('v1')
export class AnalyticsController {
  constructor(
    private readonly analytics: AnalyticsService,
    private readonly statsService: StatsService,
  ) {}

  @Get('sessions/:session_id/events')
  @ApiOperation({
    summary: "A session's events in occurrence order (timestamp with µs, then arrival)",
    description: 'Cursor-paginated; an unknown session gives an empty page.',
  })
  @ApiParam({
    name: 'session_id',
    example: 'e2085be5-9137-4e4e-80b5-f1ffddc25423',
    description: `1-${SESSION_ID_MAX_LENGTH} characters`,
  })
  @ApiOkResponse({ type: EventPageDto })
  @Header('content-type', JSON_TEXT)
  sessionEvents(
    @Param('session_id') sessionId: string,
    @Query() query: SessionEventsQueryDto,
  ): Promise<JsonText<EventPageDto>> {
    return this.analytics.sessionEvents(sessionId, query);
  }

  @Get('events')
  @ApiOperation({
    summary: 'Stored events, filtered by any combination of session, type, client and time range',
    description:
      'Ordered by (timestamp, arrival); keyset pagination: a page never skips or repeats an event, even while ' +
      'new events arrive (events that arrive behind the cursor appear in a new walk, not in this one).',
  })
  @ApiOkResponse({ type: EventPageDto })
  @Header('content-type', JSON_TEXT)
  events(@Query() query: EventsQueryDto): Promise<JsonText<EventPageDto>> {
    return this.analytics.events(query);
  }

  @Get('sessions')
  @ApiOperation({
    summary: 'Session summaries (first and last event, count, clients), by session start',
    description: '`from`/`to` select sessions whose first event falls in the range.',
  })
  @ApiOkResponse({ type: SessionPageDto })
  sessions(@Query() query: SessionsQueryDto): Promise<SessionPageDto> {
    return this.analytics.sessions(query);
  }

  @Get('stats/events')
  @ApiOperation({
    summary: 'Stored-event counts per bucket (minute to month), every bucket present, optionally grouped',
    description:
      'Every bucket between from and to is present (count 0 when empty); with group_by, every group seen in the ' +
      'range appears in every bucket. Read from the per-minute counts and their hourly and daily rollups, never ' +
      "from the events table (except with session_id: that session's events). At most 10,000 buckets per query.",
  })
  @ApiOkResponse({ type: StatsPageDto })
  stats(@Query() query: StatsQueryDto): Promise<StatsPageDto> {
    return this.statsService.stats(query);
  }

  @Get('rejected-events')
  @ApiOperation({
    summary: 'The quarantine: events the worker refused, with machine-readable reasons',
    description:
      'Newest first by default; `from`/`to` apply to when the event was quarantined (rejected_at).',
  })
  @ApiOkResponse({ type: RejectedEventPageDto })
  @Header('content-type', JSON_TEXT)
  rejected(@Query() query: RejectedEventsQueryDto): Promise<JsonText<RejectedEventPageDto>> {
    return this.analytics.rejected(query);
  }

  @Get('rejected-events/summary')
  @ApiOperation({
    summary: 'Quarantine counts per reason and event type, reason or type (group_by), most frequent first',
    description: 'An event quarantined for two reasons counts under each; `from`/`to` apply to rejected_at.',
  })
  @ApiOkResponse({ type: RejectedSummaryPageDto })
  rejectedSummary(@Query() query: RejectedSummaryQueryDto): Promise<RejectedSummaryPageDto> {
    return this.analytics.rejectedSummary(query);
  }
}
