import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsDefined,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';
import { ApiWholeListCursor } from './auth.dto';

/** Origins a key may list: enough for a site's hosts and environments. */
export const MAX_ALLOWED_ORIGINS = 50;

const ORIGINS_DESCRIPTION =
  'Origins (scheme://host[:port], as a browser sends them in the Origin header) whose web pages may send ' +
  'with this key; empty = any origin. Requests with another Origin are refused (403) and CORS preflights of the ' +
  'Segment routes are answered only for origins some key allows. Requests without an Origin header (servers) ' +
  'are not affected.';

/**
 * The rules of allowed_origins, issued or replaced. Listed in reverse: applyDecorators applies them
 * in order, stacked decorators from the bottom up, and class-validator reports in application order.
 */
const AllowedOrigins = (): PropertyDecorator =>
  applyDecorators(
    MaxLength(200, { each: true }),
    IsString({ each: true }),
    ArrayUnique(),
    ArrayMaxSize(MAX_ALLOWED_ORIGINS),
    IsArray(),
  );

export class IssueWriteKeyDto {
  @ApiPropertyOptional({ example: ['https://www.example.com'], description: ORIGINS_DESCRIPTION })
  @IsOptional()
  @AllowedOrigins()
  allowed_origins?: string[];
}

export class UpdateWriteKeyDto {
  @ApiProperty({
    example: ['https://www.example.com', 'http://localhost:8080'],
    description: ORIGINS_DESCRIPTION,
  })
  @IsDefined()
  @AllowedOrigins()
  allowed_origins!: string[];
}

export class WriteKeyDto {
  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665', description: 'The client the key sends as' })
  client_id!: string;

  @ApiProperty({
    example: 'key_8c1f3a9e0b7d4c2e6f51',
    description: 'Public id of the key (list, PATCH, DELETE)',
  })
  key_id!: string;

  @ApiProperty({
    example: 'wk_mJ0c7Qh1y8ZrVwKp2sXn4bT6dLfE9gHaU3iOoRkYqWz',
    description:
      "Shown once (only its hash is stored). Give it to a Segment SDK as its writeKey, with The Eye's URL as host.",
  })
  write_key!: string;

  @ApiProperty({ example: ['https://www.example.com'], description: ORIGINS_DESCRIPTION })
  allowed_origins!: string[];
}

export class WriteKeyInfoDto {
  @ApiProperty({ example: 'key_8c1f3a9e0b7d4c2e6f51' })
  key_id!: string;

  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665' })
  client_id!: string;

  @ApiProperty({
    example: 'wk_mJ0c7Q',
    nullable: true,
    type: String,
    description:
      'First characters of the key, to recognise it (not enough to use it); null for keys issued before prefixes were kept',
  })
  prefix!: string | null;

  @ApiProperty({ example: ['https://www.example.com'], description: ORIGINS_DESCRIPTION })
  allowed_origins!: string[];

  @ApiProperty({ format: 'date-time', example: '2026-11-27T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({
    example: '2026-11-27T10:05:00.000Z',
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Last request sent with the key (to within a minute); null if never used',
  })
  last_used_at!: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  revoked_at!: string | null;
}

export class WriteKeyListDto {
  @ApiProperty({ type: [WriteKeyInfoDto] })
  data!: WriteKeyInfoDto[];

  @ApiWholeListCursor()
  next_cursor!: null;
}
