import { Global, Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { PrometheusExporter } from './prometheus.exporter';
import { RuntimeStats } from './runtime-stats';

/** Process counters (MetricsService, global: ingestion and processing increment them) and GET /metrics. */
@Global()
@Module({
  imports: [QueueModule],
  controllers: [MetricsController],
  providers: [MetricsService, PrometheusExporter, RuntimeStats],
  exports: [MetricsService],
})
export class MetricsModule {}
