import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ApiError } from '../common/api-error';
import type { QueuedEvent } from '../queue/queue.contract';
import { EventsRepository, type QuarantineKey } from './events.repository';
import { ProcessingService } from './processing.service';
import type { ReplayFilterDto, ReplayResultDto } from './replay.dto';

const MAX_REPLAY = 10_000;
/** Quarantined events read, checked and stored per transaction. */
const REPLAY_CHUNK = 500;

/**
 * Re-checks quarantined events against the schemas in force now and stores those that pass,
 * through the same idempotent insert as the worker (no duplicates; stored ones leave the
 * quarantine in the same transaction). Those still invalid get their reasons refreshed.
 */
@Injectable()
export class ReplayService {
  constructor(
    private readonly events: EventsRepository,
    private readonly processing: ProcessingService,
    private readonly audit: AuditService,
  ) {}

  async replay(filter: ReplayFilterDto, actorClientId: string): Promise<ReplayResultDto> {
    if (filter.from && filter.to && Date.parse(filter.from) > Date.parse(filter.to)) {
      throw ApiError.validation([{ path: '/from', message: 'must not be after to' }]);
    }
    const outcome = { matched: 0, stored: 0, still_rejected: 0, more: false };
    // Chunk by chunk along (rejected_at, seq) (rejected_time_idx): memory and each transaction stay
    // bounded however much matches, and rows left in the quarantine are never read twice.
    let after: QuarantineKey | undefined;
    while (outcome.matched < MAX_REPLAY) {
      const take = Math.min(REPLAY_CHUNK, MAX_REPLAY - outcome.matched);
      const rows = await this.events.quarantinePage(filter, after, take);
      if (rows.length === 0) break;
      after = rows[rows.length - 1];
      const chunk = await this.replayChunk(rows.map(replayed));
      outcome.matched += rows.length;
      outcome.stored += chunk.stored;
      outcome.still_rejected += chunk.stillRejected;
      if (rows.length < take) break;
    }
    if (outcome.matched >= MAX_REPLAY && after) {
      outcome.more = await this.events.quarantineHasMore(filter, after);
    }
    await this.audit.record({
      actorClientId,
      action: 'quarantine.replayed',
      target: 'rejected-events',
      details: { filter: { ...filter }, ...outcome },
    });
    return outcome;
  }

  /** One chunk: store what now passes (leaving the quarantine), refresh the reasons of the rest. */
  private async replayChunk(events: QueuedEvent[]): Promise<{ stored: number; stillRejected: number }> {
    const { valid, rejected } = this.processing.classify(events);
    const result = await this.processing.storeWithRetry(valid, []);
    if (rejected.length) await this.events.refreshReasons(rejected);
    // A valid event its client already stored (stored meanwhile) is a duplicate: drop its quarantine copy.
    if (valid.length) await this.events.unquarantine(valid);
    return { stored: result.inserted, stillRejected: rejected.length };
  }
}

/**
 * A quarantined event as the worker had it: the raw text, with the arrival order it came with
 * (so a replayed event takes its place among its session's events, not the replay's).
 */
function replayed(row: { raw: string; event_seq: string | null }): QueuedEvent {
  const event = JSON.parse(row.raw) as QueuedEvent;
  if (event !== null && typeof event === 'object') {
    if (row.event_seq === null) delete event.seq;
    else event.seq = row.event_seq;
  }
  return event;
}
