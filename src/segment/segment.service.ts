import { Inject, Injectable } from '@nestjs/common';
import { ApiError, type FieldError } from '../common/api-error';
import type { EventLimits } from '../common/event-size';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { formatMicros, nowMicros } from '../common/timestamp';
import { type ResolvedWriteKey, WriteKeysService, originAllowed } from '../auth/write-keys.service';
import { EventProducer } from '../ingestion/event-producer.service';
import { RateLimiter } from '../ingestion/rate-limiter.service';
import { MetricsService } from '../metrics/metrics.service';
import type { QueuedEvent } from '../queue/queue.contract';
import { MergedSize, mergedBytes } from './merged-size';
import { MAX_MESSAGE_BYTES, type RequestContext, type SegmentCall, mapMessage } from './segment-mapping';
import type { SegmentSettingsDto } from './segment.dto';

/** Messages per request: 500 KB of ~200-byte messages; bounds the work of one request. */
export const MAX_MESSAGES = 2_500;

/** The request headers the routes read (Fastify's, lower-cased). */
export interface RequestHeaders {
  authorization?: string;
  'content-length'?: string;
  /** Sent by browsers on every cross-origin request (and same-origin POSTs): marks a web page's SDK. */
  origin?: string;
}

/** What the routes read of a request: its headers and source address (Fastify's `ip`). */
export interface SegmentRequest {
  headers: RequestHeaders;
  ip: string;
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly writeKeys: WriteKeysService,
    private readonly producer: EventProducer,
    private readonly metrics: MetricsService,
    private readonly rateLimiter: RateLimiter,
  ) {
    this.limits = { maxDepth: config.maxPayloadDepth, maxBytes: config.maxEventBytes };
    this.maxBodyBytes = config.maxBodyBytes;
  }

  async batch(body: unknown, req: SegmentRequest): Promise<{ success: true }> {
    const { headers } = req;
    const key = await this.authenticate(body, headers);
    const clientId = key.clientId;
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
    this.takeRates(key, req, messages.length);
    const ctx = this.context(clientId, headers['content-length'], b);
    this.checkMergedSize(messages, ctx);
    const events = new Array<QueuedEvent>(messages.length);
    for (let i = 0; i < messages.length; i++) events[i] = mapMessage(messages[i], `/batch/${i}`, ctx);
    await this.enqueue(events);
    return { success: true };
  }

  async single(call: SegmentCall, body: unknown, req: SegmentRequest): Promise<{ success: true }> {
    const key = await this.authenticate(body, req.headers);
    this.takeRates(key, req, 1);
    await this.enqueue([
      mapMessage(body, '', this.context(key.clientId, req.headers['content-length']), call),
    ]);
    return { success: true };
  }

  /**
   * What @segment/analytics-next loads first: its own destination (Segment.io) sending here with
   * this key, nothing else to fetch (no remote plugins, no device-mode destinations) and none of
   * Segment's metrics (they would go to Segment's servers).
   */
  async settings(
    writeKey: string,
    req: SegmentRequest,
    host: string,
    protocol: string,
  ): Promise<SegmentSettingsDto> {
    await this.authenticate({ writeKey }, req.headers);
    return {
      integrations: {
        'Segment.io': {
          apiKey: writeKey,
          apiHost: `${host}/v1`,
          protocol,
          unbundledIntegrations: [],
          addBundledMetadata: true,
        },
      },
      plan: {
        track: { __default: { enabled: true, integrations: {} } },
        identify: { __default: { enabled: true } },
        group: { __default: { enabled: true } },
      },
      edgeFunction: {},
      analyticsNextEnabled: true,
      middlewareSettings: {},
      enabledMiddleware: {},
      metrics: { sampleRate: 0 },
      legacyVideoPluginsEnabled: false,
      remotePlugins: [],
    };
  }

  /** A web page's address that has spent its budget for this second (see takeRates). */
  addressExhausted(ip: string): boolean {
    return this.rateLimiter.exhausted(`addr:${ip}`, this.config.rateLimitEventsPerAddress);
  }

  /**
   * Budgets a request spends, cheapest refusal first: its source address when it comes from a web
   * page (an Origin header) or uses a key meant for web pages (one with allowed_origins: a script
   * holding that public key can leave the Origin header out), its key, its client. A key without
   * allowed_origins sent without an Origin is a server SDK's, which sends many users' events from
   * one address: no address budget then. A refusal is a 429 with Retry-After, after which the SDKs send the same messages again.
   */
  private takeRates(key: ResolvedWriteKey, req: SegmentRequest, events: number): void {
    if (req.headers.origin !== undefined || key.allowedOrigins.length > 0)
      this.rateLimiter.takeFrom(
        `addr:${req.ip}`,
        events,
        this.config.rateLimitEventsPerAddress,
        'this address',
      );
    this.rateLimiter.takeFrom(
      `key:${key.keyId}`,
      events,
      this.config.rateLimitEventsPerKey,
      'this write key',
    );
    this.rateLimiter.take(key.clientId, events);
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
   * is not a JSON object (checked after the key, whose absence is the likelier mistake). 403 when
   * the request comes from a web page whose origin the key does not allow.
   */
  private async authenticate(body: unknown, headers: RequestHeaders): Promise<ResolvedWriteKey> {
    const authorization = headers.authorization;
    let key: string | undefined;
    if (typeof authorization === 'string' && /^basic /i.test(authorization)) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      key = colon < 0 ? decoded : decoded.slice(0, colon);
    }
    if (!key && isObject(body) && typeof body.writeKey === 'string') key = body.writeKey;
    const resolved = key ? await this.writeKeys.resolve(key) : null;
    if (resolved === null) {
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
    if (headers.origin !== undefined && !originAllowed(resolved, headers.origin)) {
      throw new ApiError(
        403,
        'forbidden',
        "This write key may not be used from this page's origin (allowed_origins)",
      );
    }
    return resolved;
  }
}
