import { Inject, Injectable } from '@nestjs/common';
import { ApiError, type FieldError } from '../common/api-error';
import type { EventLimits } from '../common/event-size';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { formatMicros, nowMicros } from '../common/timestamp';
import { WriteKeysService } from '../auth/write-keys.service';
import { EventProducer } from '../ingestion/event-producer.service';
import { RateLimiter } from '../ingestion/rate-limiter.service';
import { MetricsService } from '../metrics/metrics.service';
import type { QueuedEvent } from '../queue/queue.contract';
import { MergedSize, mergedBytes } from './merged-size';
import { MAX_MESSAGE_BYTES, type RequestContext, type SegmentCall, mapMessage } from './segment-mapping';

/** Messages per request: 500 KB of ~200-byte messages; bounds the work of one request. */
export const MAX_MESSAGES = 2_500;

/** The request headers the routes read (Fastify's, lower-cased). */
export interface RequestHeaders {
  authorization?: string;
  'content-length'?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Segment's HTTP Tracking API: write-key auth, each message mapped to an event (segment-mapping.ts)
 * and queued like /v1/events/batch. A bad message is queued for the quarantine rather than
 * failing the request: Segment SDKs drop a whole batch answered 400.
 */
@Injectable()
export class SegmentService {
  private readonly limits: EventLimits;
  private readonly maxBodyBytes: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly writeKeys: WriteKeysService,
    private readonly producer: EventProducer,
    private readonly metrics: MetricsService,
    private readonly rateLimiter: RateLimiter,
  ) {
    this.limits = { maxDepth: config.maxPayloadDepth, maxBytes: config.maxEventBytes };
    this.maxBodyBytes = config.maxBodyBytes;
  }

  async batch(body: unknown, headers: RequestHeaders): Promise<{ success: true }> {
    const clientId = await this.authenticate(body, headers.authorization);
    const b = body as Record<string, unknown>;
    const messages = b.batch;
    if (!Array.isArray(messages))
      throw ApiError.validation(
        [{ path: '/batch', message: 'must be an array of messages' }],
        'The batch is not valid',
      );
    if (messages.length > MAX_MESSAGES)
      throw ApiError.validation(
        [{ path: '/batch', message: `must hold at most ${MAX_MESSAGES} messages (got ${messages.length})` }],
        'The batch is too large',
      );
    // The client's events per second, as on /v1/events/batch: 429 with Retry-After in whole
    // seconds (what the SDKs parse; they retry after it without spending a retry).
    this.rateLimiter.take(clientId, messages.length);
    const ctx = this.context(clientId, headers['content-length'], b);
    this.checkMergedSize(messages, ctx);
    const events = new Array<QueuedEvent>(messages.length);
    for (let i = 0; i < messages.length; i++) events[i] = mapMessage(messages[i], `/batch/${i}`, ctx);
    await this.enqueue(events);
    return { success: true };
  }

  async single(call: SegmentCall, body: unknown, headers: RequestHeaders): Promise<{ success: true }> {
    const clientId = await this.authenticate(body, headers.authorization);
    this.rateLimiter.take(clientId, 1);
    await this.enqueue([mapMessage(body, '', this.context(clientId, headers['content-length']), call)]);
    return { success: true };
  }

  private async enqueue(events: QueuedEvent[]): Promise<void> {
    await this.producer.enqueue(events);
    this.metrics.counters.eventsAccepted += events.length;
  }

  /**
   * 400 (Segment SDKs drop the batch, as for a body over 500 KB) when the messages, once the
   * request's context is merged into each, would exceed MAX_BODY_BYTES: what one request may put on
   * the queue is bounded as for /v1/events/batch. Measured before anything is copied, and only
   * when the merge could reach the limit at all.
   */
  private checkMergedSize(messages: unknown[], ctx: RequestContext): void {
    const merge = ctx.merge;
    if (!merge || ctx.unmeasuredBytes + messages.length * merge.maxExtra <= this.maxBodyBytes) return;
    const bytes = mergedBytes(messages, merge, MAX_MESSAGE_BYTES);
    if (bytes > this.maxBodyBytes)
      throw ApiError.badRequest(
        `The batch is too large once its context and integrations are merged into each message ` +
          `(${bytes} bytes, over the limit of ${this.maxBodyBytes} bytes, MAX_BODY_BYTES): ` +
          'split the batch into smaller requests',
      );
  }

  private context(clientId: string, contentLength: unknown, b?: Record<string, unknown>): RequestContext {
    const receivedMicros = nowMicros();
    const length = typeof contentLength === 'string' ? Number(contentLength) : NaN;
    const context = isObject(b?.context) ? b.context : undefined;
    const integrations = isObject(b?.integrations) ? b.integrations : undefined;
    return {
      clientId,
      limits: this.limits,
      receivedMicros,
      receivedAt: formatMicros(receivedMicros),
      sentAt: b?.sentAt,
      context,
      integrations,
      merge:
        context || integrations || b?.sentAt !== undefined
          ? new MergedSize(context, integrations, b?.sentAt)
          : undefined,
      // A message can only be over its limit while the rest of the body is: see mapMessage.
      unmeasuredBytes: length >= 0 ? length : Infinity,
    };
  }

  /**
   * The client of the write key, from HTTP Basic (key as user name, empty password) or the
   * body's `writeKey`; 401 when it is missing, unknown or its client revoked. 400 when the body
   * is not a JSON object (checked after the key, whose absence is the likelier mistake).
   */
  private async authenticate(body: unknown, authorization: unknown): Promise<string> {
    let key: string | undefined;
    if (typeof authorization === 'string' && /^basic /i.test(authorization)) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      key = colon < 0 ? decoded : decoded.slice(0, colon);
    }
    if (!key && isObject(body) && typeof body.writeKey === 'string') key = body.writeKey;
    const clientId = key ? await this.writeKeys.resolve(key) : null;
    if (clientId === null) {
      throw new ApiError(
        401,
        'unauthorized',
        'A valid write key is required: HTTP Basic with the key as user name and an empty password, or "writeKey" in the body',
        undefined,
        { 'WWW-Authenticate': 'Basic realm="the-eye"' },
      );
    }
    if (!isObject(body)) {
      const errors: FieldError[] = [{ path: '/', message: 'must be a JSON object' }];
      throw ApiError.validation(errors, 'The request body is not valid');
    }
    return clientId;
  }
}
