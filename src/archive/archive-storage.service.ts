import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import type { AppConfig } from '../config/config';
import type { StorageDto } from './archive.dto';
import { ArchiveCatalogRepository } from './archive-catalog.repository';
import { ArchiveMaintenanceRepository } from './archive-maintenance.repository';

/** GET /v1/ops/storage and the storage gauges of /metrics: what each tier holds. */
@Injectable()
export class ArchiveStorageService implements OnModuleInit {
  constructor(
    private readonly catalog: ArchiveCatalogRepository,
    private readonly maintenance: ArchiveMaintenanceRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.storageTiers = async () => {
      const [hot, archive] = await Promise.all([this.maintenance.hotTotals(false), this.catalog.totals()]);
      const total = (rows: { events: number; bytes: number }[], key: 'events' | 'bytes'): number =>
        rows.reduce((n, r) => n + Math.max(0, r[key]), 0);
      return [
        { tier: 'hot', days: hot.length, events: total(hot, 'events'), bytes: total(hot, 'bytes') },
        {
          tier: 'archive',
          days: archive.length,
          events: total(archive, 'events'),
          bytes: total(archive, 'bytes'),
        },
      ];
    };
  }

  async overview(config: AppConfig): Promise<StorageDto> {
    const [hot, archive] = await Promise.all([this.maintenance.hotTotals(), this.catalog.totals()]);
    const sum = (rows: { events: number; bytes: number }[], key: 'events' | 'bytes'): number =>
      rows.reduce((n, r) => n + Math.max(0, r[key]), 0);
    return {
      hot: {
        days: hot.length,
        events: Math.round(sum(hot, 'events')),
        bytes: sum(hot, 'bytes'),
        oldest_day: hot[0]?.day ?? null,
        newest_day: hot[hot.length - 1]?.day ?? null,
      },
      archive: {
        days: archive.length,
        files: archive.reduce((n, d) => n + d.files, 0),
        events: sum(archive, 'events'),
        bytes: sum(archive, 'bytes'),
        oldest_day: archive[0]?.day ?? null,
        newest_day: archive[archive.length - 1]?.day ?? null,
      },
      settings: {
        events_hot_days: config.eventsHotDays,
        dedupe_window_days: config.dedupeWindowDays,
        events_retention_days: config.eventsRetentionDays,
        rejected_retention_days: config.rejectedRetentionDays,
        archive_interval_seconds: Math.round(config.archiveIntervalMs / 1000),
      },
    };
  }
}
