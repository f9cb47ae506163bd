import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { AuditEventPageDto, AuditEventsQueryDto } from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('audit (admin)')
@Scopes('admin')
@ApiErrors(401, 403)
@Controller('v1/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'The append-only trail of admin actions, newest first',
    description:
      'Actions: client.created, client.updated, client.revoked, client.rotated, write_key.issued, write_key.updated, ' +
      'write_key.revoked, schema.put, ' +
      'quarantine.replayed. Filters combine (AND).',
  })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiErrors(400)
  list(@Query() query: AuditEventsQueryDto): Promise<AuditEventPageDto> {
    return this.audit.list(query);
  }
}
