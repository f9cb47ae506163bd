import { Body, Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, Scopes } from './auth.decorators';
import { ApiErrors } from '../common/swagger';
import type { AuthPrincipal } from './principal';
import {
  IssueWriteKeyDto,
  UpdateWriteKeyDto,
  WriteKeyDto,
  WriteKeyInfoDto,
  WriteKeyListDto,
} from './write-keys.dto';
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
      'The key can only send events (POST /v1/batch, /v1/track, …, and the browser SDK’s short paths) as this ' +
      'client. It is public once in a web page: limit it with `allowed_origins`. Revoking the key or the client ' +
      'refuses it at once. Audited (write_key.issued; the key is never recorded).',
  })
  @ApiCreatedResponse({ type: WriteKeyDto })
  @ApiErrors(400, 404, 409)
  issue(
    @Param('client_id') clientId: string,
    @Principal() admin: AuthPrincipal,
    @Body() dto?: IssueWriteKeyDto,
  ): Promise<WriteKeyDto> {
    return this.writeKeys.issue(clientId, admin.clientId, dto?.allowed_origins);
  }

  @Get(':client_id/write-keys')
  @ApiOperation({ summary: "A client's write keys (revoked ones included); never the keys themselves" })
  @ApiOkResponse({ type: WriteKeyListDto })
  @ApiErrors(404)
  async list(@Param('client_id') clientId: string): Promise<WriteKeyListDto> {
    return { data: await this.writeKeys.list(clientId), next_cursor: null };
  }

  @Patch(':client_id/write-keys/:key_id')
  @ApiOperation({
    summary: "Set a write key's allowed origins (applies at once in every process)",
    description: 'Audited (write_key.updated).',
  })
  @ApiOkResponse({ type: WriteKeyInfoDto })
  @ApiErrors(400, 404)
  update(
    @Param('client_id') clientId: string,
    @Param('key_id') keyId: string,
    @Body() dto: UpdateWriteKeyDto,
    @Principal() admin: AuthPrincipal,
  ): Promise<WriteKeyInfoDto> {
    return this.writeKeys.setAllowedOrigins(clientId, keyId, dto.allowed_origins, admin.clientId);
  }

  @Delete(':client_id/write-keys/:key_id')
  @ApiOperation({
    summary:
      'Revoke one write key: refused at once (401) in every process; the client and its other keys go on',
    description: 'Audited (write_key.revoked). Revoking a revoked key changes nothing.',
  })
  @ApiOkResponse({ type: WriteKeyInfoDto })
  @ApiErrors(404)
  revoke(
    @Param('client_id') clientId: string,
    @Param('key_id') keyId: string,
    @Principal() admin: AuthPrincipal,
  ): Promise<WriteKeyInfoDto> {
    return this.writeKeys.revoke(clientId, keyId, admin.clientId);
  }
}
