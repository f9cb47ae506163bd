import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { PublicWhen, Scopes } from '../auth/auth.decorators';
import { ApiErrors } from '../common/swagger';
import { PrometheusExporter } from './prometheus.exporter';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly exporter: PrometheusExporter) {}

  @Scopes('admin')
  @PublicWhen('metricsPublic')
  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics of this process (admin token unless METRICS_PUBLIC=true)',
    description:
      'Prometheus text format 0.0.4. Counters are per process (sum them across instances); queue gauges are ' +
      'read from Redis and are NaN while Redis does not answer within a second. ' +
      'nodejs_eventloop_lag_{p50,p99,max,…}_seconds cover the time since the previous scrape (each scrape ' +
      'starts a new window); nodejs_gc_duration_seconds{kind} counts GC pauses since start. Never takes more than ~1 s.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example:
          '# HELP the_eye_events_accepted_total Events accepted (202) by this process.\n' +
          '# TYPE the_eye_events_accepted_total counter\nthe_eye_events_accepted_total 42\n',
      },
    },
  })
  @ApiErrors(401, 403)
  metrics(): Promise<string> {
    return this.exporter.render();
  }
}
