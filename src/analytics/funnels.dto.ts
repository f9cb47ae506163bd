import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateNested,
} from 'class-validator';
import { IsTimestampOrDate, TIME_FORMAT } from './page.dto';

export const MAX_FUNNEL_STEPS = 10;
/** `within`: a number and a unit (s, m, h, d), at most 30 days. */
export const WITHIN_RE = /^([1-9]\d{0,6})(s|m|h|d)$/;

export class FunnelStepDto {
  @ApiProperty({ example: 'page interaction', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  category!: string;

  @ApiProperty({ example: 'pageview', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class FunnelRequestDto {
  @ApiProperty({
    type: [FunnelStepDto],
    minItems: 2,
    maxItems: MAX_FUNNEL_STEPS,
    description: 'Event types in the order a session must do them (2-10 steps)',
    example: [
      { category: 'page interaction', name: 'pageview' },
      { category: 'page interaction', name: 'cta click' },
      { category: 'form interaction', name: 'submit' },
    ],
  })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(MAX_FUNNEL_STEPS)
  @ValidateNested({ each: true })
  @Type(() => FunnelStepDto)
  steps!: FunnelStepDto[];

  @ApiProperty({
    example: '30m',
    description:
      'Every later step must happen within this long of step 1: a number and s, m, h or d (at most 30d)',
  })
  @IsString()
  @Matches(WITHIN_RE, { message: 'within must be a duration such as 90s, 30m, 2h or 1d' })
  within!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-10-01',
    description: `Step 1 at or after: ${TIME_FORMAT}`,
  })
  @IsString()
  @IsTimestampOrDate()
  from!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-10-31',
    description: `Step 1 at or before: ${TIME_FORMAT}`,
  })
  @IsString()
  @IsTimestampOrDate()
  to!: string;

  @ApiPropertyOptional({
    maxLength: 64,
    description: "Only this client's events (every step)",
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  client_id?: string;
}

export class FunnelStepResultDto {
  @ApiProperty({ example: 'page interaction' })
  category!: string;

  @ApiProperty({ example: 'pageview' })
  name!: string;

  @ApiProperty({
    type: 'integer',
    example: 1234,
    description: 'Sessions that did this step after the previous ones, within `within` of step 1',
  })
  sessions!: number;
}

export class FunnelResponseDto {
  @ApiProperty({ type: [FunnelStepResultDto] })
  steps!: FunnelStepResultDto[];
}
