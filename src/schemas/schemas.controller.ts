import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../common/decorators';
import { ApiErrors } from '../common/swagger';
import { EventSchemaDto, EventSchemaListDto } from './schemas.dto';
import { SchemasService } from './schemas.service';

@ApiTags('schemas (admin)')
@ApiBearerAuth()
@Scopes('admin')
@ApiErrors(401, 403)
@Controller('v1/schemas')
export class SchemasController {
  constructor(private readonly schemas: SchemasService) {}

  @Put(':category/:name')
  @ApiOperation({
    summary: "Add or replace an event type's payload JSON Schema (a new version; applies without redeploy)",
    description:
      "The body is the JSON Schema document itself (draft-07 or 2020-12), applied to the event's `data`. " +
      'Events already quarantined can be re-checked against it with POST /v1/rejected-events/replay.',
  })
  @ApiParam({ name: 'category', example: 'page interaction' })
  @ApiParam({ name: 'name', example: 'pageview' })
  @ApiBody({
    schema: { type: 'object', additionalProperties: true },
    examples: {
      pageview: {
        value: {
          type: 'object',
          properties: {
            host: { type: 'string' },
            path: { type: 'string', pattern: '^/' },
            referrer: { type: 'string' },
          },
          required: ['host', 'path'],
          additionalProperties: false,
        },
      },
    },
  })
  @ApiOkResponse({ type: EventSchemaDto })
  @ApiErrors(400)
  put(
    @Param('category') category: string,
    @Param('name') name: string,
    @Body() schema: unknown,
    @Principal() principal: AuthPrincipal,
  ): Promise<EventSchemaDto> {
    return this.schemas.put(category, name, schema, principal.clientId);
  }

  @Get()
  @ApiOperation({
    summary: 'The payload schema in force for every known type (built-in or newest admin version)',
  })
  @ApiOkResponse({ type: EventSchemaListDto })
  async list(): Promise<EventSchemaListDto> {
    return { data: await this.schemas.list(), next_cursor: null };
  }
}
