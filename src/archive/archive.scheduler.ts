// The pass by itself, in worker processes: today's and the next days' partitions at start, then a
// pass every ARCHIVE_INTERVAL (0: never). Several workers may run the timer; the pass's advisory
// lock lets one of them work at a time and the others skip that turn.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { ArchivePassService } from './archive-pass.service';

@Injectable()
export class ArchiveScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ArchiveScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pass: ArchivePassService,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Not fatal: a partition missing at insert time is made then (EventsRepository.store).
    await this.pass.ensureAhead().catch((err: Error) => this.logger.warn(`partitions ahead: ${err.message}`));
    if (this.config.archiveIntervalMs > 0) {
      this.timer = setInterval(() => void this.tick(), this.config.archiveIntervalMs);
      this.timer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.pass.run();
    } catch (err) {
      // A failed pass changes nothing half-way (see archive-pass.service.ts); the next turn resumes.
      this.metrics.counters.archivePassFailures++;
      this.logger.error(`archive pass failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
