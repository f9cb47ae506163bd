import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { ReplayFilterDto, ReplayResultDto } from './replay.dto';
import { ReplayService } from './replay.service';

@ApiTags('quarantine')
@Controller('v1/rejected-events')
export class ReplayController {
  constructor(private readonly replays: ReplayService) {}

  @Post('replay')
  @HttpCode(200)
  @Scopes('admin')
  @ApiOperation({
    summary: 'Re-validate matching quarantined events against the current schemas; store those that now pass',
    description: 'Filters combine (AND); an empty body replays the whole quarantine, 10,000 events per call.',
  })
  @ApiOkResponse({ type: ReplayResultDto })
  @ApiErrors(400, 401, 403)
  replay(@Body() filter: ReplayFilterDto, @Principal() admin: AuthPrincipal): Promise<ReplayResultDto> {
    return this.replays.replay(filter, admin.clientId);
  }
}
