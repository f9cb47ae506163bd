import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../auth/principal';
import { Principal, Scopes } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { EventSchemaDto, EventSchemaListDto } from './schemas.dto';
import { SchemasService } from './schemas.service';

@ApiTags('schemas')
@ApiErrors(401, 403)
@Controller('v1/schemas')
export class SchemasController {
  constructor(private readonly schemas: SchemasService) {}

  @Put(':category/:name')
  @Scopes('admin')
  @ApiOperation({
    summary: "Add or replace an event type's payload JSON Schema (a new version; applies without redeploy)",
    description:
      "The body is the JSON Schema document itself (draft-07 or 2020-12), applied to the event's `data`, at most " +
      '64 KiB. `pattern`s use RE2 syntax (linear time: no lookaround or backreferences). ' +
      'It is compiled off the event loop (15 s at most). ' +
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
  @ApiErrors(400, 413)
  put(
    @Param('category') category: string,
    @Param('name') name: string,
    @Body() schema: unknown,
    @Principal() principal: AuthPrincipal,
  ): Promise<EventSchemaDto> {
    return this.schemas.put(category, name, schema, principal.clientId);
  }

  @Get()
  @Scopes('events:read')
  @ApiOperation({
    summary: 'The payload schema in force for every known type (built-in or newest admin version)',
    description: 'Readable by analysts (events:read): the schemas explain why events were quarantined.',
  })
  @ApiOkResponse({ type: EventSchemaListDto })
  async list(): Promise<EventSchemaListDto> {
    return { data: await this.schemas.list(), next_cursor: null };
  }

  @Get(':category/:name')
  @Scopes('events:read')
  @ApiOperation({
    summary: 'The payload schema in force for one type (built-in or newest admin version)',
    description: 'Readable by analysts (events:read). 404 when the type has no schema.',
  })
  @ApiParam({ name: 'category', example: 'page interaction' })
  @ApiParam({ name: 'name', example: 'pageview' })
  @ApiOkResponse({ type: EventSchemaDto })
  @ApiErrors(404)
  get(@Param('category') category: string, @Param('name') name: string): Promise<EventSchemaDto> {
    return this.schemas.get(category, name);
  }
}
