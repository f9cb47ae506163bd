import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RejectionErrorDto } from '../common/error.dto';

/** GET /v1/events/{id}: what became of an event. */
export class EventStatusDto {
  @ApiProperty({ format: 'uuid', example: '0192c0de-0000-7000-8000-000000000001' })
  id!: string;

  @ApiProperty({ enum: ['queued', 'stored', 'rejected'], example: 'stored' })
  status!: 'queued' | 'stored' | 'rejected';

  @ApiPropertyOptional({
    type: [RejectionErrorDto],
    description: 'Why the worker quarantined it (rejected only): reason codes with JSON-pointer paths',
  })
  errors?: RejectionErrorDto[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'The stored event (with received_at and client_id), or the quarantined one as it was received',
  })
  event?: object;
}
