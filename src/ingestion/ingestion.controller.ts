import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../auth/auth.decorators';
import type { JsonText } from '../common/event-view';
import { ApiErrors } from '../common/swagger';
import { EventStatusDto, EventStatusQueryDto } from '../processing/event-status.dto';
import { EventStatusService } from '../processing/event-status.service';

/** The status of a sent event. Sending is served by IngestionRoutes (plain Fastify routes). */
@ApiTags('ingestion')
@ApiErrors(401, 403)
@Controller('v1/events')
export class IngestionController {
  constructor(private readonly statuses: EventStatusService) {}

  @Get(':id')
  @Scopes('events:write', 'events:read')
  @ApiOperation({
    summary: 'What became of an event: queued, stored or rejected (with reasons)',
    description:
      'Allowed to the client that sent it and to events:read / admin tokens; others get 404. Ids belong to ' +
      'their client: when two clients used the same id, a reader picks one with `client_id` (without it: ' +
      'its own, else the only one, else 409 naming the clients).',
  })
  @ApiParam({
    name: 'id',
    format: 'uuid',
    example: '0192c0de-0000-7000-8000-000000000001',
    description: 'The id answered by POST /v1/events (or chosen by the client)',
  })
  @ApiOkResponse({ type: EventStatusDto })
  @ApiErrors(
    400,
    404,
    { status: 409, examples: ['event_id_ambiguous'] },
    { status: 503, examples: ['queue_unavailable', 'service_unavailable'] },
  )
  @Header('content-type', 'application/json; charset=utf-8')
  status(
    @Param('id') id: string,
    @Query() query: EventStatusQueryDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<JsonText<EventStatusDto>> {
    return this.statuses.status(id, principal, query.client_id);
  }
}
