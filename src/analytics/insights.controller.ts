import { Body, Controller, Get, HttpCode, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { ExportQueryDto } from './events.dto';
import { ExportService } from './export.service';
import { FunnelRequestDto, FunnelResponseDto } from './funnels.dto';
import { FunnelsService } from './funnels.service';

/** The analysts' bulk questions: the streamed export and funnels. */
@ApiTags('analytics')
@ApiErrors(400, 401, 403, { status: 503, examples: ['query_timeout', 'service_unavailable'] })
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
      'CSV: a header row, RFC 4180 quoting, `data` as a JSON column. `Content-Disposition` names the file.',
  })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ description: 'The events, one per line (NDJSON) or row (CSV)' })
  async export(@Query() query: ExportQueryDto): Promise<StreamableFile> {
    const file = await this.exports.export(query);
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
      'type after the previous step and within `within` of step 1.',
  })
  @ApiBody({ type: FunnelRequestDto })
  @ApiOkResponse({ type: FunnelResponseDto })
  funnel(@Body() body: FunnelRequestDto): Promise<FunnelResponseDto> {
    return this.funnels.funnel(body);
  }
}
