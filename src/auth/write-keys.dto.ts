import { ApiProperty } from '@nestjs/swagger';

export class WriteKeyDto {
  @ApiProperty({ example: 'cli_3f2a9c1d0e4b5a6978877665', description: 'The client the key sends as' })
  client_id!: string;

  @ApiProperty({
    example: 'wk_mJ0c7Qh1y8ZrVwKp2sXn4bT6dLfE9gHaU3iOoRkYqWz',
    description:
      "Shown once (only its hash is stored). Give it to a Segment SDK as its writeKey, with The Eye's URL as host.",
  })
  write_key!: string;
}
