// Shared pieces of the analytics query DTOs: order, time bounds, time zones (paging is common/).
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, ValidateBy } from 'class-validator';
import { isTimeZone } from './time-range';
import { ORDERS, type Order } from '../common/cursor';
import { DEFAULT_LIMIT, IsTimestampOrDate, MAX_LIMIT, PageQueryDto } from '../common/page-query.dto';

export { DEFAULT_LIMIT, IsTimestampOrDate, MAX_LIMIT, ORDERS, PageQueryDto, type Order };

export const TIME_FORMAT =
  'ISO 8601 date-time (`T` or space, 0-6 fractional digits, no zone = UTC) or a bare date: as `from` the start ' +
  'of that day, as `to` its end (UTC, or `tz` where the route takes it); inclusive';

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
