import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import { parseTimestampOrDate } from '../common/timestamp';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
export const ORDERS = ['asc', 'desc'] as const;
export type Order = (typeof ORDERS)[number];
export const INTERVALS = ['minute', 'hour', 'day'] as const;
export type Interval = (typeof INTERVALS)[number];
export const GROUP_BYS = ['category', 'name'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

const TIME_FORMAT =
  'ISO 8601 date-time (`T` or space, 0-6 fractional digits, no zone = UTC) or a bare date (= midnight UTC); inclusive';

/** A query-string time bound: ISO 8601 date-time or bare date (checked by parseTimestampOrDate). */
function IsTimestampOrDate(): PropertyDecorator {
  return ValidateBy({
    name: 'isTimestampOrDate',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseTimestampOrDate(value) !== null,
      defaultMessage: (args) =>
        `${args?.property ?? 'value'} must be an ISO 8601 date-time or a date (YYYY-MM-DD)`,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Requests (query strings). Unknown parameters are refused by the global ValidationPipe.

export class PageQueryDto {
  @ApiPropertyOptional({
    example: 100,
    minimum: 1,
    maximum: MAX_LIMIT,
    default: DEFAULT_LIMIT,
    description: 'Page size',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({
    example:
      'eyJ2IjoxLCJrIjoiZXZlbnRzIiwibyI6ImFzYyIsInQiOiIyMDIxLTAxLTAxVDA5OjE1OjI3LjI0Mzg2MFoiLCJzIjoiNDIifQ',
    description:
      'Opaque `next_cursor` of the previous page (same filters and order); absent for the first page',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  cursor?: string;
}

export class OrderedPageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ORDERS, example: 'asc', default: 'asc', description: 'Occurrence order' })
  @IsOptional()
  @IsIn(ORDERS)
  order?: Order;
}

export class SessionEventsQueryDto extends OrderedPageQueryDto {}

export class EventsQueryDto extends OrderedPageQueryDto {
  @ApiPropertyOptional({ example: 'e2085be5-9137-4e4e-80b5-f1ffddc25423', maxLength: 128 })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  session_id?: string;

  @ApiPropertyOptional({ example: 'page interaction', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  category?: string;

  @ApiPropertyOptional({
    example: 'pageview',
    maxLength: 100,
    description: 'Event name (usually with category)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({
    example: 'cli_3f2a9c1d0e4b5a6978877665',
    maxLength: 64,
    description: 'Client that sent it',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  client_id?: string;

  @ApiPropertyOptional({ example: '2021-01-01', description: `Earliest event timestamp: ${TIME_FORMAT}` })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    example: '2021-01-31T23:59:59.999999Z',
    description: `Latest event timestamp: ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;
}

export class SessionsQueryDto extends OrderedPageQueryDto {
  @ApiPropertyOptional({
    example: '2021-01-01',
    description: `Sessions that started at or after: ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    example: '2021-01-02',
    description: `Sessions that started at or before: ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;
}

export class StatsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    example: '2021-01-01',
    description: `${TIME_FORMAT}. Rounded down to the start of its bucket: the bucket containing \`from\` is counted whole`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    example: '2021-01-08',
    description: `${TIME_FORMAT}. Buckets starting at or before \`to\` are counted`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;

  @ApiPropertyOptional({
    enum: INTERVALS,
    example: 'hour',
    default: 'hour',
    description: 'Bucket width (UTC)',
  })
  @IsOptional()
  @IsIn(INTERVALS)
  interval?: Interval;

  @ApiPropertyOptional({
    enum: GROUP_BYS,
    example: 'name',
    default: 'name',
    description:
      '`category`: one row per bucket and category; `name`: one row per bucket and type (category, name)',
  })
  @IsOptional()
  @IsIn(GROUP_BYS)
  group_by?: GroupBy;
}

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

// ---------------------------------------------------------------------------------------------
// Responses.

const NEXT_CURSOR = {
  type: String,
  nullable: true,
  example:
    'eyJ2IjoxLCJrIjoiZXZlbnRzIiwibyI6ImFzYyIsInQiOiIyMDIxLTAxLTAxVDA5OjE1OjI3LjI0Mzg2MFoiLCJzIjoiNDIifQ',
  description: 'Pass as `cursor` to get the next page; null on the last page',
};

export class EventViewDto {
  @ApiProperty({ example: '0192c0de-0000-7000-8000-000000000001' })
  id!: string;

  @ApiProperty({ example: 'e2085be5-9137-4e4e-80b5-f1ffddc25423' })
  session_id!: string;

  @ApiProperty({ example: 'page interaction' })
  category!: string;

  @ApiProperty({ example: 'pageview' })
  name!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { host: 'www.consumeraffairs.com', path: '/' },
  })
  data!: Record<string, unknown>;

  @ApiProperty({ example: '2021-01-01T09:15:27.243860Z', description: 'When it happened on the client (µs)' })
  timestamp!: string;

  @ApiProperty({ example: '2021-01-01T09:15:27.301122Z', description: 'When the server received it (µs)' })
  received_at!: string;

  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665', description: 'Client that sent it' })
  client_id!: string;
}

export class EventPageDto {
  @ApiProperty({ type: [EventViewDto] })
  data!: EventViewDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
}

export class SessionSummaryDto {
  @ApiProperty({ example: 'e2085be5-9137-4e4e-80b5-f1ffddc25423' })
  session_id!: string;

  @ApiProperty({ example: '2021-01-01T09:15:27.243860Z' })
  first_event_at!: string;

  @ApiProperty({ example: '2021-01-01T09:31:02.000001Z' })
  last_event_at!: string;

  @ApiProperty({ example: 17 })
  event_count!: number;

  @ApiProperty({
    type: [String],
    example: ['cli_3f2a9c1d0e4b5a6978877665'],
    description: 'Clients that sent its events',
  })
  client_ids!: string[];
}

export class SessionPageDto {
  @ApiProperty({ type: [SessionSummaryDto] })
  data!: SessionSummaryDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
}

export class StatsRowDto {
  @ApiProperty({ example: '2021-01-01T09:00:00.000000Z', description: 'Start of the bucket (UTC)' })
  bucket!: string;

  @ApiProperty({ example: 'page interaction' })
  category!: string;

  @ApiPropertyOptional({ example: 'pageview', description: 'Present when group_by=name' })
  name?: string;

  @ApiProperty({ example: 1234, description: 'Stored events whose timestamp falls in the bucket' })
  count!: number;
}

export class StatsPageDto {
  @ApiProperty({ type: [StatsRowDto] })
  data!: StatsRowDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
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
