import { Global, Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { PrometheusExporter } from './prometheus.exporter';
import { QueueStats } from './queue-stats.service';

/**
 * Process counters (MetricsService, global: ingestion and processing increment them), the queue's
 * state in Redis (QueueStats, global: the ops overview reads it too) and GET /metrics.
 */
@Global()
@Module({
  imports: [QueueModule],
  controllers: [MetricsController],
  providers: [MetricsService, PrometheusExporter, QueueStats],
  exports: [MetricsService, QueueStats],
})
export class MetricsModule {}
