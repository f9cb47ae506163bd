import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type { Pool } from 'pg';
import { ApiError } from '../common/api-error';
import {
  EVENT_VIEW_COLUMNS,
  type EventViewRow,
  type JsonText,
  eventJson,
  rawObjectJson,
} from '../common/event-view';
import type { AuthPrincipal } from '../auth/principal';
import { hasAnyScope } from '../auth/scopes';
import { PG_POOL } from '../prisma/pg-pool';
import { EVENTS_QUEUE, type IngestJobData, QUEUED_EVENTS_KEY } from '../queue/queue.contract';
import { UUID_RE } from './envelope';
import type { EventStatusDto } from './ingestion.dto';

/**
 * What became of an event: stored, rejected (quarantined, with reasons) or still queued. Answered
 * as JSON text with the stored payload spliced in (see common/event-view.ts), so any stored row
 * can be served, however deep its payload.
 */
@Injectable()
export class EventStatusService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>,
  ) {}

  async status(rawId: string, principal: AuthPrincipal): Promise<JsonText<EventStatusDto>> {
    if (!UUID_RE.test(rawId)) throw ApiError.validation([{ path: 'id', message: 'must be a UUID' }]);
    const id = rawId.toLowerCase();
    const mayReadAll = hasAnyScope(principal.scopes, ['events:read']);
    const notFound = ApiError.notFound(`No event ${id}`);

    // events PK
    const stored = await this.pool.query<EventViewRow>(
      `SELECT ${EVENT_VIEW_COLUMNS} FROM events e WHERE e.id = $1`,
      [id],
    );
    if (stored.rows[0]) {
      if (!mayReadAll && stored.rows[0].client_id !== principal.clientId) throw notFound;
      return `{"id":"${id}","status":"stored","event":${eventJson(stored.rows[0])}}`;
    }
    // rejected_events PK
    const rejected = await this.pool.query<{ raw: string; client_id: string; errors: string }>(
      'SELECT raw, client_id, errors::text AS errors FROM rejected_events WHERE event_id = $1',
      [id],
    );
    if (rejected.rows[0]) {
      const r = rejected.rows[0];
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
    return this.queue.client.hget(QUEUED_EVENTS_KEY, id);
  }
}
