import { ApiProperty } from '@nestjs/swagger';

export class QueueJobsDto {
  @ApiProperty({
    type: 'integer',
    example: 3,
    nullable: true,
    description: 'Jobs waiting for a worker (null while Redis does not answer)',
  })
  waiting!: number | null;

  @ApiProperty({ type: 'integer', example: 1, nullable: true, description: 'Jobs a worker is storing now' })
  active!: number | null;

  @ApiProperty({
    type: 'integer',
    example: 0,
    nullable: true,
    description: 'Jobs waiting for their retry backoff',
  })
  delayed!: number | null;

  @ApiProperty({
    type: 'integer',
    example: 0,
    nullable: true,
    description: 'Jobs kept as failed after their last retry',
  })
  failed!: number | null;
}

export class IngestionRateDto {
  @ApiProperty({
    type: 'number',
    example: 1250.5,
    nullable: true,
    description: 'Events answered 202 per second by the answering process (null on the first read)',
  })
  accepted_per_second!: number | null;

  @ApiProperty({
    type: 'number',
    example: 1248.2,
    nullable: true,
    description: 'Events stored per second by this process',
  })
  stored_per_second!: number | null;

  @ApiProperty({
    type: 'number',
    example: 2.1,
    nullable: true,
    description: 'Events quarantined per second by this process',
  })
  quarantined_per_second!: number | null;

  @ApiProperty({
    type: 'number',
    example: 30.2,
    nullable: true,
    description: 'Seconds the rates are measured over (between an earlier read, at most 60 s old, and now)',
  })
  window_seconds!: number | null;
}

export class OpsOverviewDto {
  @ApiProperty({ example: '2026-12-02T14:05:07.123Z' })
  generated_at!: string;

  @ApiProperty({ enum: ['up', 'down'], example: 'up', description: 'Whether Redis answered within a second' })
  redis!: 'up' | 'down';

  @ApiProperty({ type: QueueJobsDto, description: 'Bull jobs by state, all processes' })
  queue!: QueueJobsDto;

  @ApiProperty({
    type: 'integer',
    example: 42,
    nullable: true,
    description:
      'Events accepted and not yet stored or quarantined, all processes (the 429 limit applies to it)',
  })
  backlog_events!: number | null;

  @ApiProperty({
    type: 'number',
    example: 0.8,
    nullable: true,
    description: 'Age of the oldest waiting job in seconds (0 when none)',
  })
  oldest_waiting_job_age_seconds!: number | null;

  @ApiProperty({
    example: 0.042,
    description:
      "Seconds from received_at to commit for the last job this process's worker stored (0 before the first, " +
      'and always 0 on a ROLE=api process)',
  })
  processing_lag_seconds!: number;

  @ApiProperty({ type: IngestionRateDto })
  ingestion!: IngestionRateDto;
}
