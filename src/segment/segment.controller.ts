import { Body, Controller, Get, Header, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { bodyLimitConfig } from '../common/body-limit';
import { Public } from '../auth/auth.decorators';
import { RawPayload } from '../common/decorators';
import { ApiErrors, WRITE_KEY_SCHEME } from '../common/swagger';
import { BrowserRoute } from './segment-browser';
import { SegmentBatchDto, SegmentMessageDto, SegmentSettingsDto, SegmentSuccessDto } from './segment.dto';
import { type SegmentRequest, SegmentService } from './segment.service';

/** Segment's limit per request; a larger body is answered 400, which Segment SDKs do not retry. */
const MAX_REQUEST_BYTES = 500 * 1024;

const AUTH =
  'Auth: a write key (POST /v1/clients/{client_id}/write-keys) as HTTP Basic user name with an empty ' +
  'password, or as "writeKey" in the body; no bearer token. Body: JSON as application/json or text/plain (what ' +
  'the browser SDK sends). 200 whenever the request is understood: a bad message goes to the quarantine ' +
  '(GET /v1/rejected-events) with its reasons. 400 only for an unparseable or oversized (over 500 KB) request; ' +
  "401 for a bad key; 403 when the Origin header is not one of the key's allowed_origins; 429 with Retry-After " +
  "(seconds) over the client's, the key's or (for web pages) the address's rate limit or the processing backlog; " +
  '413 for a batch of more messages than may be sent in a second. @segment/analytics-next posts the same ' +
  'bodies to one-letter paths (/v1/t, /v1/p, /v1/i, /v1/s, /v1/g, /v1/a, /v1/b), served alike and not listed here.';

const request = (req: FastifyRequest): SegmentRequest => ({ headers: req.headers, ip: req.ip });

/**
 * Segment's HTTP Tracking API (write-key auth instead of a token: @Public() for the JWT guard).
 * Each route answers like Segment's, so the unmodified SDKs work by changing their host; web
 * pages reach them cross-origin (segment-browser.ts).
 */
@ApiTags('segment')
@Public()
// Documents the write key for Swagger UI's "Authorize" (key as user name, empty password).
@ApiSecurity(WRITE_KEY_SCHEME)
// Payload strings PostgreSQL cannot store send that message to the quarantine, not the batch to a 400.
@RawPayload()
@ApiErrors(400, 401, 403, 429, 503)
@Controller('v1')
export class SegmentController {
  constructor(private readonly segment: SegmentService) {}

  @Get('projects/:writeKey/settings')
  @BrowserRoute()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "Settings of @segment/analytics-next (its cdnURL = The Eye's URL): sends the page's events here",
    description:
      "Points the SDK's Segment.io integration at this server (apiHost = this request's host + /v1) and turns " +
      "off everything else it would fetch or send (Segment's metrics, remote plugins). 401 for an unknown or " +
      "revoked key, 403 when the page's Origin is not one of the key's allowed_origins.",
  })
  @ApiOkResponse({ type: SegmentSettingsDto })
  settings(@Param('writeKey') writeKey: string, @Req() req: FastifyRequest): Promise<SegmentSettingsDto> {
    return this.segment.settings(writeKey, request(req), req.host, req.protocol);
  }

  @Post('batch')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({
    summary: 'Segment batch: several track/page/screen/identify/group/alias calls',
    description: AUTH,
  })
  @ApiBody({ type: SegmentBatchDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  batch(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.batch(body, request(req));
  }

  @Post('track')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({ summary: 'Segment track call: name = event', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  track(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('track', body, request(req));
  }

  @Post('page')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({ summary: 'Segment page call: name = name, else "page"', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  page(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('page', body, request(req));
  }

  @Post('screen')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({ summary: 'Segment screen call: name = name, else "screen"', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  screen(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('screen', body, request(req));
  }

  @Post('identify')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({
    summary: 'Segment identify call: name = "identify", traits kept in data',
    description: AUTH,
  })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  identify(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('identify', body, request(req));
  }

  @Post('group')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({
    summary: 'Segment group call: name = "group", traits and groupId kept in data',
    description: AUTH,
  })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  group(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('group', body, request(req));
  }

  @Post('alias')
  @HttpCode(200)
  @BrowserRoute(bodyLimitConfig(MAX_REQUEST_BYTES, 400))
  @ApiOperation({ summary: 'Segment alias call: name = "alias", previousId kept in data', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  alias(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('alias', body, request(req));
  }
}
