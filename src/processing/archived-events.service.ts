// Finding one event by id in the archive, for GET /v1/events/{id} once the hot tier misses it.
// A point lookup needs no snapshot: the archive pass registers a day's file and drops its
// partition in one transaction, and the hot query runs before the file list is read. A hot query
// that ran before that commit saw the partition (its lock holds the drop back until it ends); one
// that ran after sees no partition, and the file list read after it sees the registration.
import { Inject, Injectable } from '@nestjs/common';
import { ArchiveCatalogRepository } from '../archive/archive-catalog.repository';
import { utcDay } from '../archive/archive-layout';
import { ArchiveReader } from '../archive/archive-reader.repository';
import type { EventViewRow } from '../common/event-view';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { PG_POOL } from '../prisma/pg-pool';
import type { Pool } from 'pg';
import { EventsRepository } from './events.repository';

const DAY_MS = 86_400_000;

@Injectable()
export class ArchivedEvents {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: EventsRepository,
    private readonly catalog: ArchiveCatalogRepository,
    private readonly reader: ArchiveReader,
  ) {}

  /**
   * The archived events with this id (one client's, or every client's by client_id, at most
   * `limit`) whose key the ledger still has: only the files of the event's day are read (one or
   * two files, their id column). Cheap enough for every miss of the hot tier.
   */
  async byLedger(id: string, clientId: string | undefined, limit: number): Promise<EventViewRow[]> {
    const days = await this.events.ledgerDays(id, clientId);
    if (days.length === 0) return [];
    const files = (await this.catalog.days(this.pool, days[0], days[days.length - 1]))
      .filter((d) => days.includes(d.day))
      .flatMap((d) => d.files);
    return this.reader.byId(files, id, clientId, limit);
  }

  /**
   * The archived events with this id that the ledger forgot (received more than
   * DEDUPE_WINDOW_DAYS ago). Their day is unknown, so this reads the id column of every registered
   * file of the days such an event can have: up to now − DEDUPE_WINDOW_DAYS + MAX_CLOCK_SKEW
   * (a timestamp is at most MAX_CLOCK_SKEW ahead of its receipt). That reads the id column of
   * most of the archive's files (an id is random: row-group statistics prune little), so it runs
   * only for an id found nowhere else: not hot, not archived per the ledger, not quarantined, not
   * queued — an unknown id's 404 costs this scan.
   */
  async byScan(id: string, clientId: string | undefined, limit: number): Promise<EventViewRow[]> {
    const last = utcDay(
      new Date(Date.now() - this.config.dedupeWindowDays * DAY_MS + this.config.maxClockSkewMs),
    );
    const files = (await this.catalog.days(this.pool, undefined, last)).flatMap((d) => d.files);
    return this.reader.byId(files, id, clientId, limit);
  }
}
