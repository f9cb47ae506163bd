// Paging of every list route (analytics, audit): page size and the opaque cursor, and the time
// bound check their filters share. Each route's DTO extends PageQueryDto with its own filters.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, IsString, Length, ValidateBy } from 'class-validator';
import { parseTimestampOrDate } from './timestamp';
import { IntRange } from './validation';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;

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
