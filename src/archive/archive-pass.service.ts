// The archive/retention pass (docs/storage.md, "The pass"). One pass at a time across every process
// (an advisory lock); each closed day older than the hot window is moved from its partition to a
// Parquet file, and what is older than the retention horizons is deleted.
//
// The move of a day, and why it is crash-safe:
//   1. write: the partition's rows, read in one snapshot, become one Parquet file under its final
//      name (ArchiveWriter: temporary name, fsync, rename). The file is not registered: no read of
//      the service looks at it, so the day is still read from its partition only.
//   2. commit, one PostgreSQL transaction: writers of the day held off (LOCK … SHARE); if the
//      partition still holds exactly the rows written, the file is registered and the partition
//      dropped, together. A read's snapshot sees the day in exactly one tier
//      (archive-catalog.repository.ts). If rows arrived meanwhile, nothing changes and the file
//      is deleted: the next pass writes the day again.
// Killed after 1, or anywhere in 2 before COMMIT: the transaction is rolled back by PostgreSQL, the
// partition is intact, and the file on disk is an orphan that the next pass deletes before it
// moves the day again. Killed after COMMIT: the move is done.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { ArchiveCatalogRepository } from './archive-catalog.repository';
import { archivedDays, dayDir } from './archive-layout';
import { ArchiveMaintenanceRepository, type MoveStep } from './archive-maintenance.repository';
import { ArchiveWriter } from './archive-writer.service';
import { EventPartitionsRepository } from './event-partitions.repository';

const DAY_MS = 86_400_000;

/** Where a pass stands when it calls its hook: after the file is written, inside the commit, after it. */
export type PassStep = 'written' | MoveStep | 'committed';
/** Called at each step of each move (the crash tests kill the process there). */
export type ArchivePassHook = (step: PassStep, day: string) => Promise<void> | void;

export interface PassOptions {
  /** The admin who asked (the audit's actor); the timer's passes are the service's own. */
  actor?: string;
  /** Move every day before this one (YYYY-MM-DD) instead of those older than EVENTS_HOT_DAYS. */
  before?: string;
  now?: Date;
  hook?: ArchivePassHook;
}

export interface ArchivedDay {
  date: string;
  /** Events moved by this pass. */
  events: number;
  /** Bytes of the file this pass wrote. */
  bytes: number;
  /** Files the day has in the archive now (a day with late events has several). */
  files: number;
}

export interface ArchivePassResult {
  archived: ArchivedDay[];
  /** Days whose partition this pass dropped (moved, empty, or beyond retention). */
  dropped_partitions: string[];
  /** Days deleted by EVENTS_RETENTION_DAYS (archive files and partitions). */
  deleted_days: string[];
  /** Days that received events while their file was written: left hot, moved by the next pass. */
  retry_days: string[];
  /** Files on disk that no pass had registered (a pass killed before its commit), deleted. */
  orphans_removed: number;
  /** Quarantined events deleted by REJECTED_RETENTION_DAYS. */
  rejected_deleted: number;
  /** Deduplication keys older than DEDUPE_WINDOW_DAYS forgotten (those of events still hot are kept). */
  ledger_keys_trimmed: number;
}

export const addDays = (day: string, n: number): string =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

@Injectable()
export class ArchivePassService {
  private readonly logger = new Logger(ArchivePassService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly writer: ArchiveWriter,
    private readonly catalog: ArchiveCatalogRepository,
    private readonly maintenance: ArchiveMaintenanceRepository,
    private readonly partitions: EventPartitionsRepository,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {}

  /** Today's partition and the next two, so that inserts never wait for a partition to be made. */
  async ensureAhead(now = new Date()): Promise<string[]> {
    const today = now.toISOString().slice(0, 10);
    return this.partitions.ensure([today, addDays(today, 1), addDays(today, 2)]);
  }

  /**
   * One pass; null when another process is running one. `before` (YYYY-MM-DD, at most tomorrow)
   * moves every day before it instead of the days older than EVENTS_HOT_DAYS (an operator
   * archiving ahead of time; the e2e suite archiving today's events).
   */
  async run(options: PassOptions = {}): Promise<ArchivePassResult | null> {
    const result = await this.maintenance.exclusive(() => this.pass(options));
    if (result) this.metrics.counters.archivePasses++;
    return result;
  }

  private async pass(options: PassOptions): Promise<ArchivePassResult> {
    const now = options.now ?? new Date();
    const today = now.toISOString().slice(0, 10);
    const result: ArchivePassResult = {
      archived: [],
      dropped_partitions: [],
      deleted_days: [],
      retry_days: [],
      orphans_removed: await this.removeOrphans(),
      rejected_deleted: 0,
      ledger_keys_trimmed: 0,
    };
    await this.ensureAhead(now);
    const cutoff = options.before ?? addDays(today, -this.config.eventsHotDays);
    const horizon =
      this.config.eventsRetentionDays > 0 ? addDays(today, -this.config.eventsRetentionDays) : null;
    for (const day of await this.partitions.days()) {
      if (horizon !== null && day < horizon) {
        // Beyond retention (even inside the hot window, when retention is the shorter): deleted.
        if (await this.maintenance.dropPartition(day)) result.dropped_partitions.push(day);
        result.deleted_days.push(day);
      } else if (day < cutoff) {
        await this.move(day, result, options.hook);
      }
    }
    if (horizon !== null) {
      const files = await this.catalog.unregisterBefore(horizon);
      for (const f of files) await rm(this.catalog.absolute(f.path), { force: true });
      result.deleted_days = [...new Set([...result.deleted_days, ...files.map((f) => f.day)])].sort();
      await this.maintenance.deleteMinuteCountsBefore(horizon);
    }
    if (this.config.rejectedRetentionDays > 0) {
      result.rejected_deleted = await this.maintenance.deleteRejectedBefore(
        new Date(now.getTime() - this.config.rejectedRetentionDays * DAY_MS).toISOString(),
      );
    }
    // Keys of events still in a partition stay (lookups by id start at the ledger).
    const oldestHot = (await this.partitions.days())[0] ?? addDays(today, 1);
    result.ledger_keys_trimmed = await this.maintenance.trimLedger(
      new Date(now.getTime() - this.config.dedupeWindowDays * DAY_MS).toISOString(),
      oldestHot,
    );
    const changed =
      result.archived.length +
        result.dropped_partitions.length +
        result.deleted_days.length +
        result.orphans_removed >
        0 || result.rejected_deleted > 0;
    if (changed) {
      await this.audit.record({
        actorClientId: options.actor ?? 'the-eye',
        action: 'archive.pass',
        target: 'events',
        details: { ...result },
      });
      this.logger.log(
        `archive pass: ${result.archived.length} day(s) archived, ${result.deleted_days.length} deleted, ` +
          `${result.retry_days.length} to retry`,
      );
    }
    return result;
  }

  /**
   * Files on disk that are not registered: a pass killed between writing a file and committing its
   * move (or a temporary file of a killed write). Run under the pass's lock, so no write is in flight.
   */
  private async removeOrphans(): Promise<number> {
    const root = this.config.archiveDir;
    const registered = await this.catalog.paths();
    let removed = 0;
    for (const day of await archivedDays(root)) {
      const dir = dayDir(root, day);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const path = join(dir, name);
        const isTemp = name.startsWith('.') && name.endsWith('.tmp');
        if (!isTemp && (!name.endsWith('.parquet') || registered.has(this.catalog.relativePath(path))))
          continue;
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Steps 1 and 2 of the move of one day (see the top of this file). */
  private async move(day: string, result: ArchivePassResult, hook?: ArchivePassHook): Promise<void> {
    const written = await this.writer.writeDay(day);
    await hook?.('written', day);
    const path = written.path === null ? '' : this.catalog.relativePath(written.path);
    const committed = await this.maintenance.commitMove(
      { path, day, events: written.events, bytes: written.bytes },
      written.events,
      async (step) => hook?.(step, day),
    );
    if (!committed) {
      if (written.path !== null) await rm(written.path, { force: true });
      result.retry_days.push(day);
      return;
    }
    await hook?.('committed', day);
    result.dropped_partitions.push(day);
    if (written.events > 0) {
      const files = (await this.catalog.filesOf(day)).length;
      result.archived.push({ date: day, events: written.events, bytes: written.bytes, files });
      this.metrics.counters.archivedEvents += written.events;
      this.metrics.counters.archivedBytes += written.bytes;
    }
  }
}
