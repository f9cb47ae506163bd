import { Body, Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, Scopes } from './auth.decorators';
import { ApiErrors } from '../common/swagger';
import {
  ClientDto,
  ClientListDto,
  CreateClientDto,
  CreatedClientDto,
  RotatedSecretDto,
  UpdateClientDto,
} from './auth.dto';
import { ClientsService } from './clients.service';
import type { AuthPrincipal } from './principal';

@ApiTags('clients (admin)')
@Scopes('admin')
@ApiErrors(401, 403)
@Controller('v1/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Post()
  @ApiOperation({ summary: 'Register a trusted client; its secret is shown once' })
  @ApiCreatedResponse({ type: CreatedClientDto })
  @ApiErrors(400)
  create(@Body() dto: CreateClientDto, @Principal() admin: AuthPrincipal): Promise<CreatedClientDto> {
    return this.clients.create(dto.name, dto.scopes, admin.clientId);
  }

  @Get()
  @ApiOperation({ summary: 'List clients (revoked ones included, with revoked_at)' })
  @ApiOkResponse({ type: ClientListDto })
  async list(): Promise<ClientListDto> {
    return { data: await this.clients.list(), next_cursor: null };
  }

  @Patch(':client_id')
  @ApiOperation({
    summary: "Change a client's name, scopes or rate limit",
    description:
      'Send only the fields to change. `rate_limit` applies at once in every process; new `scopes` apply to ' +
      'tokens issued from now on.',
  })
  @ApiOkResponse({ type: ClientDto })
  @ApiErrors(400, 404, 409)
  update(
    @Param('client_id') clientId: string,
    @Body() dto: UpdateClientDto,
    @Principal() admin: AuthPrincipal,
  ): Promise<ClientDto> {
    return this.clients.update(clientId, dto, admin.clientId);
  }

  @Delete(':client_id')
  @ApiOperation({ summary: 'Revoke a client: its tokens are refused at once (401)' })
  @ApiOkResponse({ type: ClientDto })
  @ApiErrors(404, 409)
  revoke(@Param('client_id') clientId: string, @Principal() admin: AuthPrincipal): Promise<ClientDto> {
    return this.clients.revoke(clientId, admin.clientId);
  }

  @Post(':client_id/secret')
  @ApiOperation({
    summary:
      'Rotate a client secret; the old secret stops working now (issued tokens stay valid until they expire)',
  })
  @ApiCreatedResponse({ type: RotatedSecretDto })
  @ApiErrors(404, 409)
  rotate(@Param('client_id') clientId: string, @Principal() admin: AuthPrincipal): Promise<RotatedSecretDto> {
    return this.clients.rotate(clientId, admin.clientId);
  }
}
