import { Body, Controller, Get, HttpCode, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Principal, Scopes } from '../auth/auth.decorators';
import type { AuthPrincipal } from '../auth/principal';
import { ApiErrors } from '../common/swagger';
import { ExportQueryDto } from './events.dto';
import { ExportService } from './export.service';
import { FunnelRequestDto, FunnelResponseDto } from './funnels.dto';
import { FunnelsService } from './funnels.service';

const HEAVY =
  'A heavy read: each client runs at most ANALYTICS_MAX_CONCURRENT_PER_CLIENT (default 2) funnels and exports ' +
  'at once (an export until its stream ends or is aborted); one more answers 429 with Retry-After.';

/**
 * The analysts' bulk questions: the streamed export and funnels. Both are heavy reads, capped per
 * client (HeavyReads: ANALYTICS_MAX_CONCURRENT_PER_CLIENT, 429 beyond it).
 */
@ApiTags('analytics')
@ApiErrors(400, 401, 403, 429, { status: 503, examples: ['query_timeout', 'service_unavailable'] })
@Scopes('events:read')
@Controller('v1')
export class InsightsController {
  constructor(
    private readonly exports: ExportService,
    private readonly funnels: FunnelsService,
  ) {}

  @Get('events/export')
  @ApiOperation({
    summary: 'Every event matching the filters of GET /v1/events, streamed as NDJSON or CSV',
    description:
      'Streamed with bounded memory however many rows match (read in keyset chunks as the client takes them). ' +
      'CSV: a header row, RFC 4180 quoting, `data` as a JSON column; a cell starting with =, +, -, @, tab or CR gets ' +
      "a leading ' (no spreadsheet runs it as a formula). `Content-Disposition` names the file. " +
      HEAVY,
  })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'The events, one per line (NDJSON) or row (CSV)' })
  async export(
    @Query() query: ExportQueryDto,
    @Principal() principal: AuthPrincipal,
  ): Promise<StreamableFile> {
    const file = await this.exports.export(query, principal.clientId);
    return new StreamableFile(file.stream, {
      type: file.contentType,
      disposition: `attachment; filename="${file.filename}"`,
    });
  }

  @Post('funnels')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Funnel: of the sessions that did step 1 in the range, how many did each next step in order',
    description:
      "Step 1 is a session's first event of that type in [from, to]; each next step is its first event of that " +
      'type after the previous step and within `within` of step 1. ' +
      HEAVY,
  })
  @ApiBody({ type: FunnelRequestDto })
  @ApiOkResponse({ type: FunnelResponseDto })
  funnel(@Body() body: FunnelRequestDto, @Principal() principal: AuthPrincipal): Promise<FunnelResponseDto> {
    return this.funnels.funnel(body, principal.clientId);
  }
}
