import { InjectQueue } from '@nestjs/bull';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { EVENTS_QUEUE, INGEST_JOB, type IngestJobData } from '../queue/queue.contract';
import { ProcessingService } from './processing.service';

/**
 * The Bull consumer (thin): hands each job's events to ProcessingService. Registered with the
 * configured concurrency (WORKER_CONCURRENCY jobs at once per process).
 */
@Injectable()
export class EventsProcessor implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventsProcessor.name);

  constructor(
    @InjectQueue(EVENTS_QUEUE) private readonly queue: Queue<IngestJobData>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly processing: ProcessingService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    // Start consuming once Redis answers: the queue's command connection fails fast while offline.
    const start = (): void => {
      this.queue
        .process(INGEST_JOB, this.config.workerConcurrency, (job: Job<IngestJobData>) =>
          this.processing.process(job.data?.events, job.id),
        )
        .catch((err: Error) => this.logger.error(`worker stopped: ${err.message}`));
    };
    if (this.queue.client.status === 'ready') start();
    else this.queue.client.once('ready', start);
    this.queue.on('failed', (job: Job<IngestJobData>, err: Error) => {
      this.metrics.counters.jobsFailed++;
      this.logger.warn(
        `job ${job.id} attempt ${job.attemptsMade} failed (will retry: ${job.attemptsMade < (job.opts.attempts ?? 1)}): ${err.message}`,
      );
    });
    this.queue.on('error', (err: Error) => this.logger.warn(`queue error: ${err.message}`));
  }

  /**
   * Before connections close (the database pool among them): stop taking jobs and wait for the
   * active ones to commit. Waiting jobs stay in Redis for the next worker.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.logger.log('stopping the worker: waiting for active jobs');
    await this.queue.close();
    this.logger.log('worker stopped');
  }
}
