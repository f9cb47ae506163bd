import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
} from 'class-validator';
import { EVENT_TYPE_PART_MAX_LENGTH } from '../common/limits';

export const REPLAY_REASONS = [
  'payload_invalid',
  'timestamp_in_future',
  'timestamp_beyond_retention',
  'unknown_event_type',
  'payload_unstorable',
] as const;

export class ReplayFilterDto {
  @ApiPropertyOptional({ example: 'page interaction' })
  @IsOptional()
  @IsString()
  @Length(1, EVENT_TYPE_PART_MAX_LENGTH)
  category?: string;

  @ApiPropertyOptional({ example: 'pageview' })
  @IsOptional()
  @IsString()
  @Length(1, EVENT_TYPE_PART_MAX_LENGTH)
  name?: string;

  @ApiPropertyOptional({ enum: REPLAY_REASONS, example: 'payload_invalid' })
  @IsOptional()
  @IsIn(REPLAY_REASONS)
  reason?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-11-27T00:00:00Z',
    description: 'Quarantined at or after (inclusive)',
  })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-11-28T00:00:00Z',
    description: 'Quarantined at or before (inclusive)',
  })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({
    type: 'string',
    format: 'uuid',
    isArray: true,
    example: ['0192c0de-0000-7000-8000-000000000001'],
    maxItems: 10000,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @IsUUID('all', { each: true })
  ids?: string[];
}

export class ReplayResultDto {
  @ApiProperty({
    type: 'integer',
    example: 12,
    description: 'Quarantined events that matched the filter (at most 10,000 per call)',
  })
  matched!: number;

  @ApiProperty({
    type: 'integer',
    example: 10,
    description: 'Now valid: stored and removed from the quarantine',
  })
  stored!: number;

  @ApiProperty({
    type: 'integer',
    example: 2,
    description: 'Still invalid: left in the quarantine with their new reasons',
  })
  still_rejected!: number;

  @ApiProperty({ example: false, description: 'True when more than 10,000 matched: call again' })
  more!: boolean;
}
