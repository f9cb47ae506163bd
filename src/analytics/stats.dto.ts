import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { IsTimeZone, IsTimestampOrDate, NEXT_CURSOR, PageQueryDto, TIME_FORMAT } from './page.dto';

export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];
export const GROUP_BYS = ['category', 'name', 'client_id'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export class StatsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description:
      `${TIME_FORMAT}. The bucket containing \`from\` is counted whole. ` +
      'Default: 60 minutes, 48 hours, 30 days, 12 weeks or 12 months before `to`, by interval',
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: `${TIME_FORMAT}. The bucket containing \`to\` is counted whole. Default: now`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;

  @ApiPropertyOptional({
    enum: INTERVALS,
    example: 'day',
    default: 'hour',
    description: 'Bucket width; weeks start on Monday; day, week and month edges are local midnights in `tz`',
  })
  @IsOptional()
  @IsIn(INTERVALS)
  interval?: Interval;

  @ApiPropertyOptional({
    enum: GROUP_BYS,
    example: 'category',
    description:
      'One row per bucket and category, type (category + name) or client; absent: one row per bucket. ' +
      'Every group seen in the range appears in every bucket (0 when empty)',
  })
  @IsOptional()
  @IsIn(GROUP_BYS)
  group_by?: GroupBy;

  @ApiPropertyOptional({ maxLength: 100, description: 'Only this category' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  category?: string;

  @ApiPropertyOptional({ maxLength: 100, description: 'Only this event name' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ maxLength: 64, description: "Only this client's events" })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  client_id?: string;

  @ApiPropertyOptional({
    maxLength: 128,
    description: "Only this session's events (counted from the session's events, not the rollups)",
  })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  session_id?: string;

  @ApiPropertyOptional({
    example: 'UTC',
    default: 'UTC',
    description: 'IANA time zone for bare dates in from/to and for day, week and month edges',
  })
  @IsOptional()
  @IsString()
  @IsTimeZone()
  tz?: string;
}

export class StatsRowDto {
  @ApiProperty({
    format: 'date-time',
    example: '2026-10-01T00:00:00.000000Z',
    description: 'Start of the bucket (UTC instant)',
  })
  bucket!: string;

  @ApiPropertyOptional({ example: 'page interaction', description: 'With group_by=category or name' })
  category?: string;

  @ApiPropertyOptional({ example: 'pageview', description: 'With group_by=name' })
  name?: string;

  @ApiPropertyOptional({ example: 'web-frontend', description: 'With group_by=client_id' })
  client_id?: string;

  @ApiProperty({
    type: 'integer',
    example: 1234,
    description: 'Stored events whose timestamp falls in the bucket (0 when none)',
  })
  count!: number;
}

export class StatsPageDto {
  @ApiProperty({ type: [StatsRowDto] })
  data!: StatsRowDto[];

  @ApiProperty(NEXT_CURSOR)
  next_cursor!: string | null;
}
