import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AnalyticsModule } from './analytics/analytics.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { StringInputsInterceptor } from './common/string-inputs.interceptor';
import { createValidationPipe } from './common/validation';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { HealthModule } from './health/health.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { MetricsModule } from './metrics/metrics.module';
import { PrismaModule } from './prisma/prisma.module';
import { ProcessingModule } from './processing/processing.module';
import { WorkerModule } from './processing/worker.module';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';
import { SchemasModule } from './schemas/schemas.module';
import { SegmentModule } from './segment/segment.module';

/**
 * The whole service. ROLE=api serves HTTP only, ROLE=worker consumes the queue only, ROLE=all
 * (default) does both in one process. Globals (pipe, filter, guard) are registered here, not in
 * main.ts, so the e2e app built from this module behaves exactly like production.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const serveHttp = config.role !== 'worker';
    const consume = config.role !== 'api';
    const imports: ModuleMetadata['imports'] = [
      ConfigModule.forRoot(config),
      PrismaModule,
      RedisModule,
      AuditModule,
      MetricsModule,
      QueueModule,
      HealthModule,
    ];
    if (serveHttp)
      imports.push(
        AuthModule,
        IngestionModule,
        SegmentModule,
        SchemasModule,
        AnalyticsModule,
        ProcessingModule,
        DashboardModule,
      );
    if (consume) imports.push(WorkerModule);
    return {
      module: AppModule,
      imports,
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: StringInputsInterceptor },
        AllExceptionsFilter,
        { provide: APP_FILTER, useExisting: AllExceptionsFilter },
      ],
    };
  }
}
