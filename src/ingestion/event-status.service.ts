import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type { Pool } from 'pg';
import { ApiError } from '../common/api-error';
import { EVENT_VIEW_COLUMNS, type EventView } from '../common/event-view';
import type { AuthPrincipal } from '../auth/principal';
import { hasAnyScope } from '../auth/scopes';
import { PG_POOL } from '../prisma/pg-pool';
import { EVENTS_QUEUE, type IngestJobData, QUEUED_EVENTS_KEY } from '../queue/queue.contract';
import { UUID_RE } from './envelope';
import type { EventStatusDto } from './ingestion.dto';

/** What became of an event: stored, rejected (quarantined, with reasons) or still queued. */
@Injectable()
export class EventStatusService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>,
  ) {}

  async status(rawId: string, principal: AuthPrincipal): Promise<EventStatusDto> {
    if (!UUID_RE.test(rawId)) throw ApiError.validation([{ path: 'id', message: 'must be a UUID' }]);
    const id = rawId.toLowerCase();
    const mayReadAll = hasAnyScope(principal.scopes, ['events:read']);
    const notFound = ApiError.notFound(`No event ${id}`);

    // events PK
    const stored = await this.pool.query<EventView>(
      `SELECT ${EVENT_VIEW_COLUMNS} FROM events e WHERE e.id = $1`,
      [id],
    );
    if (stored.rows[0]) {
      if (!mayReadAll && stored.rows[0].client_id !== principal.clientId) throw notFound;
      return { id, status: 'stored', event: stored.rows[0] };
    }
    // rejected_events PK
    const rejected = await this.pool.query<{
      raw: string;
      client_id: string;
      errors: EventStatusDto['errors'];
    }>('SELECT raw, client_id, errors FROM rejected_events WHERE event_id = $1', [id]);
    if (rejected.rows[0]) {
      const r = rejected.rows[0];
      if (!mayReadAll && r.client_id !== principal.clientId) throw notFound;
      return {
        id,
        status: 'rejected',
        errors: r.errors,
        event: JSON.parse(r.raw) as Record<string, unknown>,
      };
    }
    const owner = await this.queuedBy(id);
    if (owner !== null && (mayReadAll || owner === principal.clientId)) return { id, status: 'queued' };
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
