import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export class ArchivePassRequestDto {
  @ApiPropertyOptional({
    example: '2026-01-08',
    description:
      'Move every day before this UTC day (YYYY-MM-DD, at most tomorrow) instead of the days older than ' +
      'EVENTS_HOT_DAYS. Leave it out for the pass the timer runs.',
  })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'before must be a day written YYYY-MM-DD' })
  before?: string;
}

export class ArchivedDayDto {
  @ApiProperty({ example: '2026-01-01', description: 'The UTC day moved' })
  date!: string;

  @ApiProperty({ type: 'integer', example: 8640000, description: 'Events moved by this pass' })
  events!: number;

  @ApiProperty({ type: 'integer', example: 241920000, description: 'Bytes of the file this pass wrote' })
  bytes!: number;

  @ApiProperty({
    type: 'integer',
    example: 1,
    description: 'Files the day has in the archive now (late events add one)',
  })
  files!: number;
}

export class ArchivePassResultDto {
  @ApiProperty({ type: [ArchivedDayDto], description: 'Days moved from PostgreSQL to the archive' })
  archived!: ArchivedDayDto[];

  @ApiProperty({ type: [String], example: ['2026-01-01'], description: 'Days whose partition was dropped' })
  dropped_partitions!: string[];

  @ApiProperty({ type: [String], example: [], description: 'Days deleted by EVENTS_RETENTION_DAYS' })
  deleted_days!: string[];

  @ApiProperty({
    type: [String],
    example: [],
    description:
      'Days that received events while their file was written: left in PostgreSQL, moved by the next pass',
  })
  retry_days!: string[];

  @ApiProperty({
    type: 'integer',
    example: 0,
    description: 'Unregistered files deleted (left by a pass that stopped before it committed)',
  })
  orphans_removed!: number;

  @ApiProperty({
    type: 'integer',
    example: 0,
    description: 'Quarantined events deleted by REJECTED_RETENTION_DAYS',
  })
  rejected_deleted!: number;

  @ApiProperty({
    type: 'integer',
    example: 0,
    description: 'Deduplication keys older than DEDUPE_WINDOW_DAYS forgotten',
  })
  ledger_keys_trimmed!: number;
}

export class StorageTierDto {
  @ApiProperty({ type: 'integer', example: 3, description: 'UTC days held' })
  days!: number;

  @ApiProperty({
    type: 'integer',
    example: 25920000,
    description:
      'Events held (hot tier: PostgreSQL’s estimate as of its last ANALYZE of each day; archive: exact)',
  })
  events!: number;

  @ApiProperty({
    type: 'integer',
    example: 27500000000,
    description: 'Bytes on disk (hot: tables, indexes and TOAST)',
  })
  bytes!: number;

  @ApiProperty({
    type: 'string',
    format: 'date',
    example: '2026-01-06',
    nullable: true,
    description: 'Oldest day held',
  })
  oldest_day!: string | null;

  @ApiProperty({
    type: 'string',
    format: 'date',
    example: '2026-01-08',
    nullable: true,
    description: 'Newest day held',
  })
  newest_day!: string | null;
}

export class ArchiveTierDto extends StorageTierDto {
  @ApiProperty({ type: 'integer', example: 30, description: 'Parquet files' })
  files!: number;
}

export class StorageSettingsDto {
  @ApiProperty({ type: 'integer', example: 7 })
  events_hot_days!: number;

  @ApiProperty({ type: 'integer', example: 7 })
  dedupe_window_days!: number;

  @ApiProperty({ type: 'integer', example: 0, description: '0 = forever' })
  events_retention_days!: number;

  @ApiProperty({ type: 'integer', example: 0, description: '0 = forever' })
  rejected_retention_days!: number;

  @ApiProperty({ type: 'integer', example: 3600, description: '0 = the pass runs only on demand' })
  archive_interval_seconds!: number;
}

export class StorageDto {
  @ApiProperty({ type: StorageTierDto, description: 'PostgreSQL’s day partitions' })
  hot!: StorageTierDto;

  @ApiProperty({ type: ArchiveTierDto, description: 'The Parquet archive' })
  archive!: ArchiveTierDto;

  @ApiProperty({ type: StorageSettingsDto })
  settings!: StorageSettingsDto;
}
