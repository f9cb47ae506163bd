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
      'type after the previous step and within `within` of step 1. Step 1 at 0 means no session did step 1 in ' +
      '[from, to] (for that client_id, if given): check the range and the step names with ' +
      'GET /v1/stats/events?group_by=name. ' +
      HEAVY,
  })
  @ApiBody({
    type: FunnelRequestDto,
    // Named examples: Swagger UI pre-fills the first as it is, instead of a body made from the schema
    // with "client_id": "string" (a client that does not exist: every step 0).
    examples: {
      'every client': {
        summary: "A signup funnel over October 2026, all clients' events",
        value: {
          steps: [
            { category: 'page interaction', name: 'pageview' },
            { category: 'page interaction', name: 'cta click' },
            { category: 'form interaction', name: 'submit' },
          ],
          within: '30m',
          from: '2026-10-01',
          to: '2026-10-31',
        },
      },
      'one client': {
        summary: "The same, counting one client's events only (client_id as listed by GET /v1/clients)",
        value: {
          steps: [
            { category: 'page interaction', name: 'pageview' },
            { category: 'page interaction', name: 'cta click' },
          ],
          within: '1h',
          from: '2026-10-01',
          to: '2026-10-31',
          client_id: 'cli_3f2a9c1d0e4b5a6978877665',
        },
      },
    },
  })
  @ApiOkResponse({ type: FunnelResponseDto })
  funnel(@Body() body: FunnelRequestDto, @Principal() principal: AuthPrincipal): Promise<FunnelResponseDto> {
    return this.funnels.funnel(body, principal.clientId);
  }
}
