import {
  Body,
  Controller,
  HttpCode,
  Ip,
  Post,
  createParamDecorator,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from './auth.decorators';
import { AcceptsForm } from '../common/form-body';
import { ApiErrors } from '../common/swagger';
import { TokenRequestDto, TokenResponseDto } from './auth.dto';
import { TokenService } from './token.service';

/**
 * The Authorization header (HTTP Basic client authentication), read without documenting it as a
 * parameter: @Headers() would make Swagger UI demand a value before it lets anyone Execute.
 */
const AuthorizationHeader = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined => {
    const value = ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    return typeof value === 'string' ? value : undefined;
  },
);

@ApiTags('auth')
@Controller('v1/auth')
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  @Public()
  @Post('token')
  @AcceptsForm()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Client-credentials token (OAuth 2.0 RFC 6749 §4.4)',
    description:
      'Credentials as JSON, as form fields (`grant_type=client_credentials`) or as HTTP Basic ' +
      '(`Authorization: Basic base64(client_id:client_secret)`). `scope` is optional: a space-separated ' +
      "subset of the client's scopes; absent or empty, the token carries all of them. " +
      'This is the `tokenUrl` that "Authorize" (oauth2) calls for you. More than 10 failed secrets for one ' +
      'client_id from one address, or 100 failures from one address, within a minute → 429 with Retry-After ' +
      'for that id from that address (or for that address) until the minute is over. Responses carry ' +
      '`Cache-Control: no-store`.',
  })
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  @ApiBody({
    type: TokenRequestDto,
    examples: {
      credentials: {
        summary: 'Client id and secret (all of the client’s scopes)',
        value: { client_id: 'cli_3f2a9c1d0e4b5a6978877665', client_secret: 'q9kXr0…' },
      },
    },
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiErrors(400, { status: 401, examples: ['invalid_client'] }, 429)
  token(
    @Body() body: unknown,
    @Ip() source: string,
    @AuthorizationHeader() authorization?: string,
  ): Promise<TokenResponseDto> {
    return this.tokens.issue(this.tokens.credentialsFrom(body, authorization), source);
  }
}
