import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ORDERS, type Order } from '../common/cursor';
import { IsTimestampOrDate, PageQueryDto } from '../common/page-query.dto';

/** Every admin action the trail records. */
export const AUDIT_ACTIONS = [
  'client.created',
  'client.updated',
  'client.revoked',
  'client.rotated',
  'write_key.issued',
  'write_key.updated',
  'write_key.revoked',
  'schema.put',
  'quarantine.replayed',
  'archive.pass',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

const TIME_FORMAT =
  'ISO 8601 date-time (no zone = UTC) or a bare date (`from`: start of that day, `to`: its end, UTC); inclusive';

export class AuditEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, description: 'Only this action' })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  @ApiPropertyOptional({ format: 'date-time', description: `Earliest entry: ${TIME_FORMAT}` })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: `Latest entry: ${TIME_FORMAT}` })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;

  @ApiPropertyOptional({
    enum: ORDERS,
    example: 'desc',
    default: 'desc',
    description: 'desc = newest first',
  })
  @IsOptional()
  @IsIn(ORDERS)
  order?: Order;
}

export class AuditEventDto {
  @ApiProperty({ example: '42', description: 'Append order (a bigint, as text)' })
  id!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-12-02T14:05:00.123456Z',
    description: 'When the action happened (UTC, µs)',
  })
  at!: string;

  @ApiProperty({ example: 'test-admin', description: 'The admin client that acted' })
  actor_client_id!: string;

  @ApiProperty({ enum: AUDIT_ACTIONS, example: 'client.created' })
  action!: string;

  @ApiProperty({
    example: 'cli_3f2a9c1d0e4b5a6978877665',
    description:
      'What was acted on: a client id, `category/name` of a schema, `rejected-events` for a replay',
  })
  target!: string;

  @ApiProperty({
    example: { name: 'marketing website', scopes: ['events:write'] },
    description: 'Facts of the action (never a secret or its hash)',
    type: 'object',
    additionalProperties: true,
  })
  details!: Record<string, unknown>;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] })
  data!: AuditEventDto[];

  @ApiProperty({ example: null, nullable: true, type: String, description: 'null on the last page' })
  next_cursor!: string | null;
}
