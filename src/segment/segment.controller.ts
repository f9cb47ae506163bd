import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { BodyLimit } from '../common/body-limit';
import { Public } from '../auth/auth.decorators';
import { RawPayload } from '../common/decorators';
import { ApiErrors, WRITE_KEY_SCHEME } from '../common/swagger';
import { SegmentBatchDto, SegmentMessageDto, SegmentSuccessDto } from './segment.dto';
import { SegmentService } from './segment.service';

/** Segment's limit per request; a larger body is answered 400, which Segment SDKs do not retry. */
const MAX_REQUEST_BYTES = 500 * 1024;

const AUTH =
  'Auth: a write key (POST /v1/clients/{client_id}/write-keys) as HTTP Basic user name with an empty ' +
  'password, or as "writeKey" in the body; no bearer token. 200 whenever the request is understood: a bad ' +
  'message goes to the quarantine (GET /v1/rejected-events) with its reasons. 400 only for an unparseable or ' +
  "oversized (over 500 KB) request; 401 for a bad key; 429 with Retry-After (seconds) over the client's rate " +
  'limit or the processing backlog; 413 for a batch of more messages than the client may send in a second.';

/**
 * Segment's HTTP Tracking API (write-key auth instead of a token: @Public() for the JWT guard).
 * Each route answers like Segment's, so the unmodified SDKs work by changing their host.
 */
@ApiTags('segment')
@Public()
// Documents the write key for Swagger UI's "Authorize" (key as user name, empty password).
@ApiSecurity(WRITE_KEY_SCHEME)
// Payload strings PostgreSQL cannot store send that message to the quarantine, not the batch to a 400.
@RawPayload()
@ApiErrors(400, 401, 429, 503)
@Controller('v1')
export class SegmentController {
  constructor(private readonly segment: SegmentService) {}

  @Post('batch')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({
    summary: 'Segment batch: several track/page/screen/identify/group/alias calls',
    description: AUTH,
  })
  @ApiBody({ type: SegmentBatchDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  batch(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.batch(body, req.headers);
  }

  @Post('track')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({ summary: 'Segment track call: name = event', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  track(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('track', body, req.headers);
  }

  @Post('page')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({ summary: 'Segment page call: name = name, else "page"', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  page(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('page', body, req.headers);
  }

  @Post('screen')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({ summary: 'Segment screen call: name = name, else "screen"', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  screen(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('screen', body, req.headers);
  }

  @Post('identify')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({
    summary: 'Segment identify call: name = "identify", traits kept in data',
    description: AUTH,
  })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  identify(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SegmentSuccessDto> {
    return this.segment.single('identify', body, req.headers);
  }
}
