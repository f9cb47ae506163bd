import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsTimestampOrDate, NEXT_CURSOR, OrderedPageQueryDto, TIME_FORMAT } from './page.dto';

export class SessionsQueryDto extends OrderedPageQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    description: `Sessions that started at or after: ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: `Sessions that started at or before: ${TIME_FORMAT}`,
  })
  @IsOptional()
  @IsTimestampOrDate()
  to?: string;
}

export class SessionSummaryDto {
  @ApiProperty({ example: 'e2085be5-9137-4e4e-80b5-f1ffddc25423' })
  session_id!: string;

  @ApiProperty({ format: 'date-time', example: '2021-01-01T09:15:27.243860Z' })
  first_event_at!: string;

  @ApiProperty({ format: 'date-time', example: '2021-01-01T09:31:02.000001Z' })
  last_event_at!: string;

  @ApiProperty({ type: 'integer', example: 17 })
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
