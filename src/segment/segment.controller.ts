import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BodyLimit } from '../common/body-limit';
import { Public } from '../auth/auth.decorators';
import { RawPayload } from '../common/decorators';
import { ApiErrors } from '../common/swagger';
import { SegmentBatchDto, SegmentMessageDto, SegmentSuccessDto } from './segment.dto';
import { SegmentService } from './segment.service';

/** Segment's limit per request; a larger body is answered 400, which Segment SDKs do not retry. */
const MAX_REQUEST_BYTES = 500 * 1024;

const AUTH =
  'Auth: a write key (POST /v1/clients/{client_id}/write-keys) as HTTP Basic user name with an empty ' +
  'password, or as "writeKey" in the body; no bearer token. 200 whenever the request is understood: a bad ' +
  'message goes to the quarantine (GET /v1/rejected-events) with its reasons. 400 only for an unparseable or ' +
  'oversized (over 500 KB) request; 401 for a bad key.';

/**
 * Segment's HTTP Tracking API (write-key auth instead of a token: @Public() for the JWT guard).
 * Each route answers like Segment's, so the unmodified SDKs work by changing their host.
 */
@ApiTags('segment')
@Public()
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
  batch(
    @Body() body: unknown,
    @Headers('authorization') authorization?: string,
    @Headers('content-length') contentLength?: string,
  ): Promise<SegmentSuccessDto> {
    return this.segment.batch(body, authorization, contentLength);
  }

  @Post('track')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({ summary: 'Segment track call: name = event', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  track(
    @Body() body: unknown,
    @Headers('authorization') authorization?: string,
    @Headers('content-length') contentLength?: string,
  ): Promise<SegmentSuccessDto> {
    return this.segment.single('track', body, authorization, contentLength);
  }

  @Post('page')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({ summary: 'Segment page call: name = name, else "page"', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  page(
    @Body() body: unknown,
    @Headers('authorization') authorization?: string,
    @Headers('content-length') contentLength?: string,
  ): Promise<SegmentSuccessDto> {
    return this.segment.single('page', body, authorization, contentLength);
  }

  @Post('screen')
  @HttpCode(200)
  @BodyLimit(MAX_REQUEST_BYTES, 400)
  @ApiOperation({ summary: 'Segment screen call: name = name, else "screen"', description: AUTH })
  @ApiBody({ type: SegmentMessageDto })
  @ApiOkResponse({ type: SegmentSuccessDto })
  screen(
    @Body() body: unknown,
    @Headers('authorization') authorization?: string,
    @Headers('content-length') contentLength?: string,
  ): Promise<SegmentSuccessDto> {
    return this.segment.single('screen', body, authorization, contentLength);
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
  identify(
    @Body() body: unknown,
    @Headers('authorization') authorization?: string,
    @Headers('content-length') contentLength?: string,
  ): Promise<SegmentSuccessDto> {
    return this.segment.single('identify', body, authorization, contentLength);
  }
}
