import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsTimestampOrDate, NEXT_CURSOR, ORDERS, type Order, PageQueryDto, TIME_FORMAT } from './page.dto';

export class RejectedEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: 'payload_invalid',
    description:
      'Only events rejected for this reason (payload_invalid, timestamp_in_future, unknown_event_type, …)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z][a-z0-9_]*$/, { message: 'reason must be a reason code such as payload_invalid' })
  reason?: string;

  @ApiPropertyOptional({
    example: 'cli_3f2a9c1d0e4b5a6978877665',
    maxLength: 64,
    description: 'Client that sent it',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  client_id?: string;

  @ApiPropertyOptional({ example: 'form interaction', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  category?: string;

  @ApiPropertyOptional({ example: 'submit', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({
    example: '2021-01-01',
    description: `Quarantined at or after (rejected_at): ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    example: '2021-01-31',
    description: `Quarantined at or before (rejected_at): ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;

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

export class RejectionErrorDto {
  @ApiProperty({ example: 'payload_invalid' })
  reason!: string;

  @ApiProperty({ example: '/data/path', description: 'JSON pointer into the event' })
  path!: string;

  @ApiProperty({ example: 'must be string' })
  message!: string;
}

export class RejectedEventDto {
  @ApiProperty({ example: '0192c0de-0000-7000-8000-000000000001', description: 'Event id' })
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

  @ApiProperty({ example: '2021-01-01T09:15:27.301122Z' })
  received_at!: string;

  @ApiProperty({ example: '2021-01-01T09:15:27.512000Z', description: 'When the worker quarantined it' })
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

export class RejectedSummaryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: '2026-10-01',
    description: `Quarantined at or after (rejected_at): ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    example: '2026-10-31',
    description: `Quarantined at or before (rejected_at): ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;

  @ApiPropertyOptional({ example: 'web-frontend', maxLength: 64, description: 'Client that sent them' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  client_id?: string;
}

export class RejectedSummaryRowDto {
  @ApiProperty({
    example: 'payload_invalid',
    description: 'Why (an event with two reasons counts under each)',
  })
  reason!: string;

  @ApiProperty({ example: 'form interaction' })
  category!: string;

  @ApiProperty({ example: 'submit' })
  name!: string;

  @ApiProperty({ example: 42, description: 'Quarantined events of this type for this reason' })
  count!: number;

  @ApiProperty({ example: '2026-10-31T23:12:09.000000Z', description: 'The latest of them (rejected_at)' })
  last_rejected_at!: string;
}

export class RejectedSummaryPageDto {
  @ApiProperty({ type: [RejectedSummaryRowDto] })
  data!: RejectedSummaryRowDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
}
