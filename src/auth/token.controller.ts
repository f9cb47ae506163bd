import { Body, Controller, Headers, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/decorators';
import { ApiErrors } from '../common/swagger';
import { TokenRequestDto, TokenResponseDto } from './auth.dto';
import { TokenService } from './token.service';

@ApiTags('auth')
@Controller('v1/auth')
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  @Public()
  @Post('token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Client-credentials token (OAuth 2.0 RFC 6749 §4.4)',
    description:
      'Credentials as JSON, as form fields (grant_type=client_credentials) or as HTTP Basic. More than 10 failed ' +
      'secrets for one client_id, or 100 from one address, within a minute → 429 with Retry-After for that id ' +
      '(or address) until the minute is over.',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({ type: TokenRequestDto })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiErrors(400, 401, 429)
  token(
    @Body() body: unknown,
    @Ip() source: string,
    @Headers('authorization') authorization?: string,
  ): Promise<TokenResponseDto> {
    return this.tokens.issue(this.tokens.credentialsFrom(body, authorization), source);
  }
}
