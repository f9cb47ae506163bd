import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { RejectionErrorDto } from '../common/error.dto';
import { CLIENT_ID_MAX_LENGTH, EVENT_TYPE_PART_MAX_LENGTH } from '../common/limits';
import { IsTimestampOrDate, NEXT_CURSOR, ORDERS, type Order, PageQueryDto, TIME_FORMAT } from './page.dto';

/** The quarantine window and client, shared by the list of rejected events and its summary. */
export class RejectedWindowQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description: `Quarantined at or after (rejected_at): ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: `Quarantined at or before (rejected_at): ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;

  @ApiPropertyOptional({ maxLength: CLIENT_ID_MAX_LENGTH, description: 'Client that sent it' })
  @IsOptional()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  client_id?: string;
}

export class RejectedEventsQueryDto extends RejectedWindowQueryDto {
  @ApiPropertyOptional({
    description:
      'Only events rejected for this reason (payload_invalid, timestamp_in_future, unknown_event_type, …)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z][a-z0-9_]*$/, { message: 'reason must be a reason code such as payload_invalid' })
  reason?: string;

  @ApiPropertyOptional({
    maxLength: EVENT_TYPE_PART_MAX_LENGTH,
    description: 'Event category, e.g. `form interaction`',
  })
  @IsOptional()
  @IsString()
  @Length(1, EVENT_TYPE_PART_MAX_LENGTH)
  category?: string;

  @ApiPropertyOptional({ maxLength: EVENT_TYPE_PART_MAX_LENGTH, description: 'Event name, e.g. `submit`' })
  @IsOptional()
  @IsString()
  @Length(1, EVENT_TYPE_PART_MAX_LENGTH)
  name?: string;

  @ApiPropertyOptional({
    enum: ORDERS,
    example: 'desc',
    default: 'desc',
    description: 'By rejected_at; newest first by default',
  })
  @IsOptional()
  @IsIn(ORDERS)
  order?: Order;
}

export class RejectedEventDto {
  @ApiProperty({ format: 'uuid', example: '0192c0de-0000-7000-8000-000000000001', description: 'Event id' })
  id!: string;

  @ApiProperty({ type: [String], example: ['payload_invalid'] })
  reasons!: string[];

  @ApiProperty({ type: [RejectionErrorDto] })
  errors!: RejectionErrorDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The event exactly as it was received (with received_at and client_id)',
    example: {
      id: '0192c0de-0000-7000-8000-000000000001',
      session_id: 'e2085be5-9137-4e4e-80b5-f1ffddc25423',
      category: 'page interaction',
      name: 'pageview',
      data: { host: 'www.consumeraffairs.com', path: 42 },
      timestamp: '2021-01-01T09:15:27.243860Z',
      received_at: '2021-01-01T09:15:27.301122Z',
      client_id: 'cli_3f2a9c1d0e4b5a6978877665',
    },
  })
  event!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time', example: '2021-01-01T09:15:27.301122Z' })
  received_at!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2021-01-01T09:15:27.512000Z',
    description: 'When the worker quarantined it',
  })
  rejected_at!: string;

  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665' })
  client_id!: string;
}

export class RejectedEventPageDto {
  @ApiProperty({ type: [RejectedEventDto] })
  data!: RejectedEventDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
}

export const SUMMARY_GROUP_BYS = ['reason,type', 'reason', 'type'] as const;
export type SummaryGroupBy = (typeof SUMMARY_GROUP_BYS)[number];

export class RejectedSummaryQueryDto extends RejectedWindowQueryDto {
  @ApiPropertyOptional({
    enum: SUMMARY_GROUP_BYS,
    default: 'reason,type',
    description:
      'One row per reason and event type (default), per reason alone (an event with two reasons counts ' +
      'under each), or per event type alone (each event once, whatever its reasons)',
  })
  @IsOptional()
  @IsIn(SUMMARY_GROUP_BYS)
  group_by?: SummaryGroupBy;
}

export class RejectedSummaryRowDto {
  @ApiPropertyOptional({
    example: 'payload_invalid',
    description: 'Why (an event with two reasons counts under each); absent with group_by=type',
  })
  reason?: string;

  @ApiPropertyOptional({ example: 'form interaction', description: 'Absent with group_by=reason' })
  category?: string;

  @ApiPropertyOptional({ example: 'submit', description: 'Absent with group_by=reason' })
  name?: string;

  @ApiProperty({
    type: 'integer',
    example: 42,
    description: 'Quarantined events of this group (type and reason, reason, or type)',
  })
  count!: number;

  @ApiProperty({
    format: 'date-time',
    example: '2026-10-31T23:12:09.000000Z',
    description: 'The latest of them (rejected_at)',
  })
  last_rejected_at!: string;
}

export class RejectedSummaryPageDto {
  @ApiProperty({ type: [RejectedSummaryRowDto] })
  data!: RejectedSummaryRowDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
}
