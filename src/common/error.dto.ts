import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: '/events/3/timestamp', description: 'JSON pointer or parameter name' })
  path!: string;

  @ApiProperty({ example: 'must be an ISO 8601 date-time' })
  message!: string;
}

export class ErrorDto {
  @ApiProperty({ example: 'validation_failed' })
  code!: string;

  @ApiProperty({ example: 'The request is not valid' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
