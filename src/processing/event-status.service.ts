import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { ApiError } from '../common/api-error';
import { type EventViewRow, type JsonText, eventJson, rawObjectJson } from '../common/event-view';
import type { AuthPrincipal } from '../auth/principal';
import { hasAnyScope } from '../auth/scopes';
import { EVENTS_QUEUE, type IngestJobData, QUEUED_EVENTS_KEY, queuedField } from '../queue/queue.contract';
import { UUID_RE } from '../common/uuid';
import type { EventStatusDto } from './event-status.dto';
import { ArchivedEvents } from './archived-events.service';
import { EventsRepository, type QuarantineRow } from './events.repository';

/** Clients named in a 409, at most. */
const MAX_CANDIDATES = 10;
/** Fields HSCAN reads per call (each call is short; the whole scan only runs for a reader's miss). */
const SCAN_COUNT = 1_000;

/** One client's event with the id, in whichever state it was found. */
type Found =
  | { status: 'stored'; clientId: string; row: EventViewRow }
  | { status: 'rejected'; clientId: string; row: QuarantineRow }
  | { status: 'queued'; clientId: string };

/**
 * What became of an event: stored, rejected (quarantined, with reasons) or still queued. Answered
 * as JSON text with the stored payload spliced in (see common/event-view.ts), so any stored row
 * can be served, however deep its payload.
 *
 * Ids belong to their client: a writer only ever sees its own event with the id; a reader names
 * the client with `client_id`, or gets its own, or the only one, or a 409 naming the clients.
 */
@Injectable()
export class EventStatusService {
  constructor(
    private readonly events: EventsRepository,
    private readonly archived: ArchivedEvents,
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>,
  ) {}

  async status(
    rawId: string,
    principal: AuthPrincipal,
    clientId?: string,
  ): Promise<JsonText<EventStatusDto>> {
    if (!UUID_RE.test(rawId)) throw ApiError.validation([{ path: 'id', message: 'must be a UUID' }]);
    const id = rawId.toLowerCase();
    const notFound = ApiError.notFound(`No event ${id}`);
    const mayReadAll = hasAnyScope(principal.scopes, ['events:read']);
    if (!mayReadAll && clientId !== undefined && clientId !== principal.clientId) throw notFound;
    const owner = mayReadAll ? clientId : principal.clientId;

    const found =
      owner !== undefined ? await this.ofClient(id, owner) : await this.pick(id, principal.clientId);
    if (!found) throw notFound;
    return answer(id, found);
  }

  /**
   * One client's event with this id: stored (hot, else archived per the ledger), else quarantined,
   * else queued, else stored in the archive beyond the ledger's window (ArchivedEvents.byScan: the
   * costly lookup, last).
   */
  private async ofClient(id: string, clientId: string): Promise<Found | null> {
    const [stored] = await this.events.stored(id, clientId);
    if (stored) return { status: 'stored', clientId, row: stored };
    const [archived] = await this.archived.byLedger(id, clientId, 1);
    if (archived) return { status: 'stored', clientId, row: archived };
    const [rejected] = await this.events.quarantined(id, clientId);
    if (rejected) return { status: 'rejected', clientId, row: rejected };
    const queued = await this.redis().hexists(QUEUED_EVENTS_KEY, queuedField(id, clientId));
    if (queued) return { status: 'queued', clientId };
    const [old] = await this.archived.byScan(id, clientId, 1);
    return old ? { status: 'stored', clientId, row: old } : null;
  }

  /**
   * A reader without client_id: its own event if it has one with this id, else the only one.
   * Stored (hot, then archived per the ledger) and quarantined events are looked up first (the
   * primary keys' leading column); the queued marks are scanned only when neither has one, and
   * the archive beyond the ledger's window only when nothing at all was found.
   */
  private async pick(id: string, callerId: string): Promise<Found | null> {
    const byClient = new Map<string, Found>();
    const stored = (rows: EventViewRow[]): void => {
      for (const row of rows)
        if (!byClient.has(row.client_id))
          byClient.set(row.client_id, { status: 'stored', clientId: row.client_id, row });
    };
    stored(await this.events.stored(id, undefined, MAX_CANDIDATES + 1));
    if (!byClient.has(callerId)) stored(await this.archived.byLedger(id, undefined, MAX_CANDIDATES + 1));
    for (const row of await this.events.quarantined(id, undefined, MAX_CANDIDATES + 1))
      if (!byClient.has(row.client_id))
        byClient.set(row.client_id, { status: 'rejected', clientId: row.client_id, row });
    if (byClient.size === 0) {
      for (const clientId of await this.queuedClients(id))
        byClient.set(clientId, { status: 'queued', clientId });
    }
    if (byClient.size === 0) stored(await this.archived.byScan(id, undefined, MAX_CANDIDATES + 1));
    const own = byClient.get(callerId);
    if (own) return own;
    if (byClient.size <= 1) return byClient.values().next().value ?? null;
    const clients = [...byClient.keys()].sort();
    const named =
      clients.slice(0, MAX_CANDIDATES).join(', ') + (clients.length > MAX_CANDIDATES ? ', …' : '');
    throw new ApiError(
      409,
      'conflict',
      `Several clients sent an event with id ${id} (${named}): name one with ?client_id=`,
      [{ path: 'client_id', message: `must name one of: ${named}` }],
    );
  }

  /** The clients with an event of this id still queued (HSCAN MATCH "<id>:*"). */
  private async queuedClients(id: string): Promise<string[]> {
    const redis = this.redis();
    const clients: string[] = [];
    let cursor = '0';
    do {
      const [next, entries] = await redis.hscan(
        QUEUED_EVENTS_KEY,
        cursor,
        'MATCH',
        `${id}:*`,
        'COUNT',
        SCAN_COUNT,
      );
      for (let i = 0; i < entries.length; i += 2) clients.push(entries[i].slice(id.length + 1));
      cursor = next;
    } while (cursor !== '0');
    return clients;
  }

  private redis(): Queue['client'] {
    if (this.queue.client.status !== 'ready') {
      throw ApiError.unavailable(
        'queue_unavailable',
        'Cannot tell whether the event is queued: the queue is unreachable',
        5,
      );
    }
    return this.queue.client;
  }
}

function answer(id: string, found: Found): JsonText<EventStatusDto> {
  const head = `{"id":"${id}","status":"${found.status}","client_id":${JSON.stringify(found.clientId)}`;
  switch (found.status) {
    case 'stored':
      return `${head},"event":${eventJson(found.row)}}`;
    case 'rejected':
      return (
        `${head},"reasons":${JSON.stringify(found.row.reasons)},"errors":${found.row.errors},` +
        `"event":${rawObjectJson(found.row.raw)}}`
      );
    case 'queued':
      return `${head}}`;
  }
}
