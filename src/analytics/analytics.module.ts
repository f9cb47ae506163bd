import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import { ArchiveModule } from '../archive/archive.module';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ANALYTICS_POOL, createAnalyticsPool } from './analytics-pool';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsRepository } from './analytics.repository';
import { AnalyticsService } from './analytics.service';
import { EventTiers } from './event-tiers.service';
import { ExportService } from './export.service';
import { FunnelsRepository } from './funnels.repository';
import { FunnelsService } from './funnels.service';
import { HeavyReads } from './heavy-reads';
import { InsightsController } from './insights.controller';
import { StatsRepository } from './stats.repository';
import { StatsService } from './stats.service';

/** Query endpoints for analysts (scope events:read): controller → service → repository (SQL). */
@Module({
  imports: [ArchiveModule],
  controllers: [AnalyticsController, InsightsController],
  providers: [
    {
      provide: ANALYTICS_POOL,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => createAnalyticsPool(config),
    },
    AnalyticsService,
    AnalyticsRepository,
    StatsService,
    StatsRepository,
    EventTiers,
    ExportService,
    FunnelsService,
    FunnelsRepository,
    HeavyReads,
  ],
})
export class AnalyticsModule implements OnApplicationShutdown {
  constructor(@Inject(ANALYTICS_POOL) private readonly pool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
