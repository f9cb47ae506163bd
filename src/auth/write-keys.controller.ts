import { Controller, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, Scopes } from './auth.decorators';
import { ApiErrors } from '../common/swagger';
import type { AuthPrincipal } from './principal';
import { WriteKeyDto } from './write-keys.dto';
import { WriteKeysService } from './write-keys.service';

@ApiTags('clients (admin)')
@ApiBearerAuth()
@Scopes('admin')
@ApiErrors(401, 403)
@Controller('v1/clients')
export class WriteKeysController {
  constructor(private readonly writeKeys: WriteKeysService) {}

  @Post(':client_id/write-keys')
  @ApiOperation({
    summary: 'Issue a write key for a Segment-style SDK (client needs events:write); shown once',
    description:
      'The key can only send events (POST /v1/batch, /v1/track, …) as this client. Revoking the client ' +
      'refuses its keys at once. Audited (write_key.issued; the key is never recorded).',
  })
  @ApiCreatedResponse({ type: WriteKeyDto })
  @ApiErrors(404, 409)
  issue(@Param('client_id') clientId: string, @Principal() admin: AuthPrincipal): Promise<WriteKeyDto> {
    return this.writeKeys.issue(clientId, admin.clientId);
  }
}
