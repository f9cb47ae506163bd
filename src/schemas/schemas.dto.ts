import { ApiProperty } from '@nestjs/swagger';

export class EventSchemaDto {
  @ApiProperty({ example: 'page interaction' })
  category!: string;

  @ApiProperty({ example: 'pageview' })
  name!: string;

  @ApiProperty({ example: 2, description: '0 = built-in; every PUT adds a version' })
  version!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: {
      type: 'object',
      properties: { host: { type: 'string' }, path: { type: 'string' } },
      required: ['host', 'path'],
    },
  })
  schema!: Record<string, unknown>;

  @ApiProperty({ example: 'built-in', description: '"built-in" or the admin client id that PUT it' })
  created_by!: string;

  @ApiProperty({ example: '2026-11-27T10:00:00.000Z', nullable: true, type: String })
  created_at!: string | null;
}

export class EventSchemaListDto {
  @ApiProperty({ type: [EventSchemaDto], description: 'The schema in force for each type (newest version)' })
  data!: EventSchemaDto[];

  @ApiProperty({ example: null, nullable: true, type: String })
  next_cursor!: null;
}
