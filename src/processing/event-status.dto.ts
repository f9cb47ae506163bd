import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { RejectionErrorDto } from '../common/error.dto';
import { CLIENT_ID_MAX_LENGTH } from '../common/limits';

/** GET /v1/events/{id}?client_id=: whose event, when several clients used the id. */
export class EventStatusQueryDto {
  @ApiPropertyOptional({
    maxLength: CLIENT_ID_MAX_LENGTH,
    description:
      'The client whose event to answer: ids belong to their client, and two clients may use the same id. ' +
      'Without it a reader gets its own event with this id if it has one, else the only one; when several ' +
      'clients have one, 409 naming them. A token with events:write only always gets its own (naming ' +
      'another client answers 404).',
  })
  @IsOptional()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  client_id?: string;
}

/** GET /v1/events/{id}: what became of an event. */
export class EventStatusDto {
  @ApiProperty({ format: 'uuid', example: '0192c0de-0000-7000-8000-000000000001' })
  id!: string;

  @ApiProperty({ enum: ['queued', 'stored', 'rejected'], example: 'stored' })
  status!: 'queued' | 'stored' | 'rejected';

  @ApiProperty({ example: 'web-shop', description: 'The client that sent it (ids belong to their client)' })
  client_id!: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['payload_invalid'],
    description:
      'Why it was quarantined (rejected only): the reason codes, as in GET /v1/rejected-events ' +
      '(payload_invalid, timestamp_in_future, envelope_invalid, …)',
  })
  reasons?: string[];

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
