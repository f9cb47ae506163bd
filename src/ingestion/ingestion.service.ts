import { Inject, Injectable } from '@nestjs/common';
import { ApiError, type FieldError } from '../common/api-error';
import type { EventLimits } from '../common/event-size';
import { MAX_BATCH_EVENTS } from '../common/limits';
import { formatMicros, nowMicros } from '../common/timestamp';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import type { QueuedEvent } from '../queue/queue.contract';
import { checkEnvelope } from './envelope';
import { EventProducer } from './event-producer.service';
import type { BatchResponseDto, BatchResultDto, QueuedDto } from './ingestion.dto';
import { RateLimiter } from './rate-limiter.service';

@Injectable()
export class IngestionService {
  private readonly limits: EventLimits;

  constructor(
    private readonly producer: EventProducer,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly rateLimiter: RateLimiter,
  ) {
    this.limits = { maxDepth: config.maxPayloadDepth, maxBytes: config.maxEventBytes };
  }

  async ingestOne(body: unknown, clientId: string): Promise<QueuedDto> {
    this.rateLimiter.take(clientId, 1);
    const checked = checkEnvelope(body, '', formatMicros(nowMicros()), clientId, this.limits);
    if (!checked.ok) {
      this.metrics.counters.eventsRefused++;
      if (checked.breach === 'payload_too_deep')
        throw new ApiError(400, 'payload_too_deep', 'The event payload nests too deep', checked.errors);
      if (checked.breach === 'event_too_large')
        throw new ApiError(
          413,
          'event_too_large',
          `The event is larger than the limit of ${this.limits.maxBytes} bytes (MAX_EVENT_BYTES): keep large values out of data`,
          checked.errors,
        );
      throw ApiError.validation(checked.errors, 'The event envelope is not valid');
    }
    await this.producer.enqueue([checked.event]);
    this.metrics.counters.eventsAccepted++;
    return { id: checked.event.id, status: 'queued' };
  }

  /** Each event is judged alone: one bad event never rejects its neighbours. */
  async ingestBatch(body: unknown, clientId: string): Promise<BatchResponseDto> {
    const events = this.batchEvents(body);
    this.rateLimiter.take(clientId, events.length);
    const receivedAt = formatMicros(nowMicros());
    const results: BatchResultDto[] = new Array<BatchResultDto>(events.length);
    const accepted: QueuedEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const checked = checkEnvelope(events[i], `/events/${i}`, receivedAt, clientId, this.limits);
      if (checked.ok) {
        accepted.push(checked.event);
        results[i] = { index: i, id: checked.event.id, status: 'queued' };
      } else {
        results[i] = { index: i, status: 'rejected', errors: checked.errors };
      }
    }
    await this.producer.enqueue(accepted);
    this.metrics.counters.eventsAccepted += accepted.length;
    this.metrics.counters.eventsRefused += events.length - accepted.length;
    return { accepted: accepted.length, rejected: events.length - accepted.length, results };
  }

  private batchEvents(body: unknown): unknown[] {
    const errors: FieldError[] = [];
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw ApiError.validation([{ path: '/', message: 'must be a JSON object {"events": [...]}' }]);
    }
    const b = body as Record<string, unknown>;
    for (const key in b)
      if (key !== 'events') errors.push({ path: `/${key}`, message: 'is not a batch field' });
    const events = b.events;
    if (!Array.isArray(events)) errors.push({ path: '/events', message: 'must be an array of events' });
    else if (events.length < 1 || events.length > MAX_BATCH_EVENTS) {
      const fix = events.length > MAX_BATCH_EVENTS ? ': split it into several requests' : '';
      errors.push({
        path: '/events',
        message: `must hold 1-${MAX_BATCH_EVENTS} events (got ${events.length})${fix}`,
      });
    }
    if (errors.length) throw ApiError.validation(errors, 'The batch is not valid');
    return events as unknown[];
  }
}
