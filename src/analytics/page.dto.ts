// Shared pieces of the analytics query DTOs: paging, order, time bounds.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, IsString, Length, ValidateBy } from 'class-validator';
import { parseTimestampOrDate } from '../common/timestamp';
import { isTimeZone } from './time-range';
import { IntRange } from '../common/validation';
import { ORDERS, type Order } from '../common/cursor';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
export { ORDERS, type Order };

export const TIME_FORMAT =
  'ISO 8601 date-time (`T` or space, 0-6 fractional digits, no zone = UTC) or a bare date: as `from` the start ' +
  'of that day, as `to` its end (UTC, or `tz` where the route takes it); inclusive';

/** A query-string time bound: ISO 8601 date-time or bare date (checked by parseTimestampOrDate). */
export function IsTimestampOrDate(): PropertyDecorator {
  return ValidateBy({
    name: 'isTimestampOrDate',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseTimestampOrDate(value) !== null,
      defaultMessage: (args) =>
        `${args?.property ?? 'value'} must be an ISO 8601 date-time or a date (YYYY-MM-DD)`,
    },
  });
}

/** An IANA time zone name. */
export function IsTimeZone(): PropertyDecorator {
  return ValidateBy({
    name: 'isTimeZone',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isTimeZone(value),
      defaultMessage: () => 'tz must be an IANA time zone name such as UTC or Europe/Paris',
    },
  });
}

export class PageQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    example: 100,
    minimum: 1,
    maximum: MAX_LIMIT,
    default: DEFAULT_LIMIT,
    description: 'Page size',
  })
  @IsOptional()
  @Type(() => Number)
  @IntRange(1, MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({
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

export const NEXT_CURSOR = {
  type: String,
  nullable: true,
  example: 'eyJ2IjoxLCJrIjoiZXZlbnRzIiwibyI6ImFzYyIsInAiOlsiMjAyMS0wMS0wMVQwOToxNToyNy4yNDM4NjBaIiwiNDIiXX0',
  description: 'Pass as `cursor` to get the next page; null on the last page',
};
