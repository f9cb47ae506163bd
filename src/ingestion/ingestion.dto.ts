import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FieldErrorDto } from '../common/error.dto';
import { EVENT_TYPE_PART_MAX_LENGTH, MAX_BATCH_EVENTS, SESSION_ID_MAX_LENGTH } from '../common/limits';

/** Documentation of the wire format; the checks themselves are in envelope.ts (~1 µs/event). */
export class EventDto {
  @ApiPropertyOptional({
    format: 'uuid',
    example: '0192c0de-0000-7000-8000-000000000001',
    description: 'Idempotency key chosen by the client; absent: the server assigns a UUIDv7',
  })
  id?: string;

  @ApiProperty({
    example: 'e2085be5-9137-4e4e-80b5-f1ffddc25423',
    minLength: 1,
    maxLength: SESSION_ID_MAX_LENGTH,
  })
  session_id!: string;

  @ApiProperty({ example: 'page interaction', minLength: 1, maxLength: EVENT_TYPE_PART_MAX_LENGTH })
  category!: string;

  @ApiProperty({ example: 'pageview', minLength: 1, maxLength: EVENT_TYPE_PART_MAX_LENGTH })
  name!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { host: 'www.consumeraffairs.com', path: '/' },
    description:
      "Payload; its shape depends on the type (category, name), checked by the worker against the type's JSON Schema. " +
      'At most MAX_PAYLOAD_DEPTH (32) levels of nesting, the whole event at most MAX_EVENT_BYTES (65536) bytes of JSON.',
  })
  data!: Record<string, unknown>;

  @ApiProperty({
    example: '2021-01-01 09:15:27.243860',
    description:
      'ISO 8601 with T or a space, with or without zone (none = UTC), 0-6 fractional digits; microseconds are kept',
  })
  timestamp!: string;
}

export class BatchDto {
  @ApiProperty({ type: [EventDto], minItems: 1, maxItems: MAX_BATCH_EVENTS })
  events!: EventDto[];
}

export class QueuedDto {
  @ApiProperty({ format: 'uuid', example: '0192c0de-0000-7000-8000-000000000001' })
  id!: string;

  @ApiProperty({ example: 'queued', enum: ['queued'] })
  status!: 'queued';
}

export class BatchResultDto {
  @ApiProperty({ type: 'integer', example: 0, description: 'Position of the event in the request' })
  index!: number;

  @ApiPropertyOptional({ format: 'uuid', example: '0192c0de-0000-7000-8000-000000000001' })
  id?: string;

  @ApiProperty({ enum: ['queued', 'rejected'], example: 'queued' })
  status!: 'queued' | 'rejected';

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Why the envelope was refused (rejected only)' })
  errors?: FieldErrorDto[];
}

export class BatchResponseDto {
  @ApiProperty({ type: 'integer', example: 99 })
  accepted!: number;

  @ApiProperty({ type: 'integer', example: 1 })
  rejected!: number;

  @ApiProperty({ type: [BatchResultDto] })
  results!: BatchResultDto[];
}
