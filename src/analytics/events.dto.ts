import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { CLIENT_ID_MAX_LENGTH, EVENT_TYPE_PART_MAX_LENGTH, SESSION_ID_MAX_LENGTH } from '../common/limits';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import {
  IsTimestampOrDate,
  NEXT_CURSOR,
  ORDERS,
  OrderedPageQueryDto,
  type Order,
  TIME_FORMAT,
} from './page.dto';

export class SessionEventsQueryDto extends OrderedPageQueryDto {}

/** The filters of the stored events, shared by GET /v1/events and its export. */
export class EventFiltersDto {
  @ApiPropertyOptional({ maxLength: SESSION_ID_MAX_LENGTH, description: 'Only this session' })
  @IsOptional()
  @IsString()
  @Length(1, SESSION_ID_MAX_LENGTH)
  session_id?: string;

  @ApiPropertyOptional({
    maxLength: EVENT_TYPE_PART_MAX_LENGTH,
    description: 'Event category, e.g. `page interaction`',
  })
  @IsOptional()
  @IsString()
  @Length(1, EVENT_TYPE_PART_MAX_LENGTH)
  category?: string;

  @ApiPropertyOptional({
    maxLength: EVENT_TYPE_PART_MAX_LENGTH,
    description: 'Event name, e.g. `pageview` (usually with category)',
  })
  @IsOptional()
  @IsString()
  @Length(1, EVENT_TYPE_PART_MAX_LENGTH)
  name?: string;

  @ApiPropertyOptional({ maxLength: CLIENT_ID_MAX_LENGTH, description: 'Client that sent it' })
  @IsOptional()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  client_id?: string;

  @ApiPropertyOptional({ format: 'date-time', description: `Earliest event timestamp: ${TIME_FORMAT}` })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: `Latest event timestamp: ${TIME_FORMAT}` })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;
}

/** GET /v1/events: the filters, paged. */
export class EventsQueryDto extends IntersectionType(OrderedPageQueryDto, EventFiltersDto) {}

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** GET /v1/events/export: the same filters, no paging (the export streams every matching event). */
export class ExportQueryDto extends EventFiltersDto {
  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    example: 'ndjson',
    default: 'ndjson',
    description:
      'ndjson: one event JSON per line; csv: header row, one event per row, `data` as a JSON column',
  })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;

  @ApiPropertyOptional({ enum: ORDERS, example: 'asc', default: 'asc', description: 'Occurrence order' })
  @IsOptional()
  @IsIn(ORDERS)
  order?: Order;
}

export class EventViewDto {
  @ApiProperty({ format: 'uuid', example: '0192c0de-0000-7000-8000-000000000001' })
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

  @ApiProperty({
    format: 'date-time',
    example: '2021-01-01T09:15:27.243860Z',
    description: 'When it happened on the client (µs)',
  })
  timestamp!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2021-01-01T09:15:27.301122Z',
    description: 'When the server received it (µs)',
  })
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
