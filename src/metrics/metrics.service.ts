import { Injectable } from '@nestjs/common';

/**
 * Process-local counters, exposed in Prometheus text by the metrics controller. Each process
 * counts what it did; Prometheus sums across instances (`sum by (...)`).
 */
@Injectable()
export class MetricsService {
  readonly counters = {
    /** Events answered 202 by this process's ingestion endpoints. */
    eventsAccepted: 0,
    /** Events refused by the request's envelope checks. */
    eventsRefused: 0,
    /** Events stored (new rows) by this process's worker. */
    eventsStored: 0,
    /** Duplicates skipped by this process's worker (same id already stored). */
    eventsDuplicate: 0,
    /** Events quarantined by this process's worker. */
    eventsQuarantined: 0,
    /** Bull jobs completed by this process's worker. */
    jobsCompleted: 0,
    /** Bull job attempts that failed (and will be retried) in this process. */
    jobsFailed: 0,
    /** Archive/retention passes run to the end by this process. */
    archivePasses: 0,
    /** Archive/retention passes that failed in this process. */
    archivePassFailures: 0,
    /** Events moved from PostgreSQL to the archive by this process. */
    archivedEvents: 0,
    /** Bytes of the archive files this process wrote. */
    archivedBytes: 0,
  };
  /** Seconds from received_at to commit of the last job this worker stored. */
  lastProcessingLagSeconds = 0;
  /**
   * What each storage tier holds, read at scrape time; set by the archive module (it owns that
   * SQL), so that metrics do not depend on it.
   */
  storageTiers?: () => Promise<StorageTierFigures[]>;
}

export interface StorageTierFigures {
  tier: 'hot' | 'archive';
  days: number;
  events: number;
  bytes: number;
}
