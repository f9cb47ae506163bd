import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { IntRange } from '../common/validation';
import { SCOPES, type Scope } from './scopes';

export class TokenRequestDto {
  @ApiPropertyOptional({
    example: 'client_credentials',
    description: 'Optional; only client_credentials is supported',
  })
  grant_type?: string;

  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665', description: 'Client id (or use HTTP Basic)' })
  client_id!: string;

  @ApiProperty({ example: 'q9kX…', description: 'Client secret (or use HTTP Basic)' })
  client_secret!: string;

  @ApiPropertyOptional({
    description:
      "Optional space-separated subset of the client's scopes (events:write, events:read, admin); absent or empty: all of them",
  })
  scope?: string;
}

export class TokenResponseDto {
  @ApiProperty({ example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' })
  access_token!: string;

  @ApiProperty({ example: 'Bearer' })
  token_type!: 'Bearer';

  @ApiProperty({ example: 3600, description: 'Seconds until the token expires' })
  expires_in!: number;

  @ApiProperty({ example: 'events:read', description: 'Space-separated scopes the token carries' })
  scope!: string;
}

export class CreateClientDto {
  @ApiProperty({ example: 'marketing website', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['events:write'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true })
  scopes!: Scope[];
}

/** Highest per-client rate limit an admin may set (events/s). */
export const MAX_RATE_LIMIT = 1_000_000;

export class UpdateClientDto {
  @ApiPropertyOptional({ example: 'marketing website', minLength: 1, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({
    enum: SCOPES,
    isArray: true,
    example: ['events:write'],
    description:
      'Replaces the scopes. Applies to tokens issued from now on; tokens already issued keep their scopes ' +
      'until they expire (rotate the secret as well to cut them at once).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true })
  scopes?: Scope[];

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 0,
    maximum: MAX_RATE_LIMIT,
    example: 500,
    description:
      'Events per second this client may send, across all API processes; null = RATE_LIMIT_EVENTS_PER_SECOND, ' +
      '0 = unlimited. Applies at once.',
  })
  @IsOptional()
  @IntRange(0, MAX_RATE_LIMIT)
  rate_limit?: number | null;
}

export class ClientDto {
  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665' })
  client_id!: string;

  @ApiProperty({ example: 'marketing website' })
  name!: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['events:write'] })
  scopes!: Scope[];

  @ApiProperty({ format: 'date-time', example: '2026-11-27T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  rotated_at!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  revoked_at!: string | null;

  @ApiProperty({
    example: '2026-11-27T10:05:00.000Z',
    nullable: true,
    type: String,
    description: 'Last token issued or authenticated request (to within a minute); null if never used',
  })
  last_used_at!: string | null;

  @ApiProperty({
    example: null,
    nullable: true,
    type: 'integer',
    description: 'Own events/s limit; null = RATE_LIMIT_EVENTS_PER_SECOND, 0 = unlimited',
  })
  rate_limit!: number | null;
}

export class CreatedClientDto extends ClientDto {
  @ApiProperty({ example: 'q9kXr0…', description: 'Shown once; only a salted hash is stored' })
  client_secret!: string;
}

/** The `next_cursor` of a list that is never paged (clients, a client's write keys): always null. */
export const ApiWholeListCursor = (): PropertyDecorator =>
  ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'Always null: the whole list fits one page',
  });

export class ClientListDto {
  @ApiProperty({ type: [ClientDto] })
  data!: ClientDto[];

  @ApiWholeListCursor()
  next_cursor!: null;
}

export class RotatedSecretDto {
  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665' })
  client_id!: string;

  @ApiProperty({ example: 'N3wS3cr…', description: 'Shown once; the old secret stops working now' })
  client_secret!: string;
}
