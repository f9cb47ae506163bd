import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../common/decorators';
import type { JsonText } from '../common/event-view';
import { ApiErrors } from '../common/swagger';
import { EventStatusService } from './event-status.service';
import { EventStatusDto } from './ingestion.dto';

/** The status of a sent event. Sending is served by IngestionRoutes (plain Fastify routes). */
@ApiTags('ingestion')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1/events')
export class IngestionController {
  constructor(private readonly statuses: EventStatusService) {}

  @Get(':id')
  @Scopes('events:write', 'events:read')
  @ApiOperation({
    summary: 'What became of an event: queued, stored or rejected (with reasons)',
    description: 'Allowed to the client that sent it and to events:read / admin tokens; others get 404.',
  })
  @ApiOkResponse({ type: EventStatusDto })
  @ApiErrors(400, 404, 503)
  @Header('content-type', 'application/json; charset=utf-8')
  status(@Param('id') id: string, @Principal() principal: AuthPrincipal): Promise<JsonText<EventStatusDto>> {
    return this.statuses.status(id, principal);
  }
}
