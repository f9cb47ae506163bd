import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { OpsOverviewDto } from './ops.dto';
import { OpsService } from './ops.service';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/ops')
export class OpsController {
  constructor(private readonly ops: OpsService) {}

  @Scopes('admin')
  @Get('overview')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Queue depth, processing lag and ingestion rate as JSON (admin; the dashboard reads it)',
    description:
      'Queue figures are read from Redis, shared by every process, and null while Redis does not answer within ' +
      'a second. Processing lag and rates come from the process that answers: rates are measured between this ' +
      'read and the oldest read of the last minute, so the first read has none.',
  })
  @ApiOkResponse({ type: OpsOverviewDto })
  @ApiErrors(401, 403)
  overview(): Promise<OpsOverviewDto> {
    return this.ops.overview();
  }
}
