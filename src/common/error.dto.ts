import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: '/events/3/timestamp', description: 'JSON pointer or parameter name' })
  path!: string;

  @ApiProperty({ example: 'must be an ISO 8601 date-time' })
  message!: string;
}

/** Why the worker quarantined an event: one entry per reason (and per schema error). */
export class RejectionErrorDto {
  @ApiProperty({
    example: 'payload_invalid',
    description: 'payload_invalid, timestamp_in_future, unknown_event_type, …',
  })
  reason!: string;

  @ApiProperty({ example: '/data/path', description: 'JSON pointer into the event' })
  path!: string;

  @ApiProperty({ example: 'must be string' })
  message!: string;
}

export class ErrorDto {
  @ApiProperty({
    example: 'validation_failed',
    description:
      'Machine-readable: validation_failed, bad_request, invalid_json, unauthorized, invalid_client, forbidden, ' +
      'not_found, conflict, payload_too_large, unsupported_media_type, rate_limited, queue_unavailable, ' +
      'service_unavailable, …',
  })
  code!: string;

  @ApiProperty({
    example: 'limit must be an integer from 1 to 1000',
    description: 'What went wrong and how to fix it',
  })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
