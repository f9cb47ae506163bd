import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { ApiError } from '../common/api-error';
import { type JsonText, eventJson, rawObjectJson } from '../common/event-view';
import type { AuthPrincipal } from '../auth/principal';
import { hasAnyScope } from '../auth/scopes';
import {
  EVENTS_QUEUE,
  type IngestJobData,
  QUEUED_EVENTS_KEY,
  parseQueuedMark,
} from '../queue/queue.contract';
import { UUID_RE } from '../common/uuid';
import type { EventStatusDto } from './event-status.dto';
import { EventsRepository } from './events.repository';

/**
 * What became of an event: stored, rejected (quarantined, with reasons) or still queued. Answered
 * as JSON text with the stored payload spliced in (see common/event-view.ts), so any stored row
 * can be served, however deep its payload.
 */
@Injectable()
export class EventStatusService {
  constructor(
    private readonly events: EventsRepository,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>,
  ) {}

  async status(rawId: string, principal: AuthPrincipal): Promise<JsonText<EventStatusDto>> {
    if (!UUID_RE.test(rawId)) throw ApiError.validation([{ path: 'id', message: 'must be a UUID' }]);
    const id = rawId.toLowerCase();
    const mayReadAll = hasAnyScope(principal.scopes, ['events:read']);
    const notFound = ApiError.notFound(`No event ${id}`);

    const stored = await this.events.stored(id);
    if (stored) {
      if (!mayReadAll && stored.client_id !== principal.clientId) throw notFound;
      return `{"id":"${id}","status":"stored","event":${eventJson(stored)}}`;
    }
    const r = await this.events.quarantined(id);
    if (r) {
      if (!mayReadAll && r.client_id !== principal.clientId) throw notFound;
      return `{"id":"${id}","status":"rejected","errors":${r.errors},"event":${rawObjectJson(r.raw)}}`;
    }
    const owner = await this.queuedBy(id);
    if (owner !== null && (mayReadAll || owner === principal.clientId)) {
      return `{"id":"${id}","status":"queued"}`;
    }
    throw notFound;
  }

  private async queuedBy(id: string): Promise<string | null> {
    if (this.queue.client.status !== 'ready') {
      throw ApiError.unavailable(
        'queue_unavailable',
        'Cannot tell whether the event is queued: the queue is unreachable',
        5,
      );
    }
    const mark = await this.queue.client.hget(QUEUED_EVENTS_KEY, id);
    return mark === null ? null : parseQueuedMark(mark).clientId;
  }
}
