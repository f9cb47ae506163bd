import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { bodyLimitConfig } from '../common/body-limit';
import { RawPayload } from '../common/decorators';
import { BrowserRoute } from './segment-browser';
import { type SegmentRequest, SegmentService } from './segment.service';

/** Segment's limit per request, as on the long paths (400: the SDK drops rather than resends). */
const LIMIT = bodyLimitConfig(500 * 1024, 400);

const request = (req: FastifyRequest): SegmentRequest => ({ headers: req.headers, ip: req.ip });

/**
 * The paths @segment/analytics-next posts to (its apiHost + "/" + the call's first letter, "/b" in
 * batching mode): the same calls as SegmentController's, answered the same way. Left out of the
 * OpenAPI document, where they would only repeat the long paths (docs/browser.md lists them).
 */
@ApiExcludeController()
@Public()
@RawPayload()
@Controller('v1')
export class SegmentBrowserController {
  constructor(private readonly segment: SegmentService) {}

  @Post('b')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  batch(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.batch(body, request(req));
  }

  @Post('t')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  track(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.single('track', body, request(req));
  }

  @Post('p')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  page(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.single('page', body, request(req));
  }

  @Post('s')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  screen(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.single('screen', body, request(req));
  }

  @Post('i')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  identify(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.single('identify', body, request(req));
  }

  @Post('g')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  group(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.single('group', body, request(req));
  }

  @Post('a')
  @HttpCode(200)
  @BrowserRoute(LIMIT)
  alias(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ success: true }> {
    return this.segment.single('alias', body, request(req));
  }
}
