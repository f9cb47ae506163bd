import { Body, Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../common/decorators';
import { DirectRoute } from '../common/direct-route';
import type { JsonText } from '../common/event-view';
import { ApiErrors } from '../common/swagger';
import { EventStatusService } from './event-status.service';
import { BatchDto, BatchResponseDto, EventDto, EventStatusDto, QueuedDto } from './ingestion.dto';
import { IngestionService } from './ingestion.service';

@ApiTags('ingestion')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1/events')
export class IngestionController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly statuses: EventStatusService,
  ) {}

  @Post()
  @DirectRoute()
  @HttpCode(202)
  @Scopes('events:write')
  @ApiOperation({ summary: 'Send one event; 202 once it is durably queued' })
  @ApiBody({ type: EventDto })
  @ApiAcceptedResponse({ type: QueuedDto })
  @ApiErrors(400, 413, 415, 429, 503)
  ingest(@Body() body: unknown, @Principal() principal: AuthPrincipal): Promise<QueuedDto> {
    return this.ingestion.ingestOne(body, principal.clientId);
  }

  @Post('batch')
  @DirectRoute()
  @HttpCode(202)
  @Scopes('events:write')
  @ApiOperation({
    summary: 'Send up to 1,000 events; each is judged alone (one bad event never rejects its neighbours)',
  })
  @ApiBody({ type: BatchDto })
  @ApiAcceptedResponse({ type: BatchResponseDto })
  @ApiErrors(400, 413, 415, 429, 503)
  ingestBatch(@Body() body: unknown, @Principal() principal: AuthPrincipal): Promise<BatchResponseDto> {
    return this.ingestion.ingestBatch(body, principal.clientId);
  }

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
