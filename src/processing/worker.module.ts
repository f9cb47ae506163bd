import { Module } from '@nestjs/common';
import { ArchiveModule } from '../archive/archive.module';
import { ArchiveScheduler } from '../archive/archive.scheduler';
import { QueueModule } from '../queue/queue.module';
import { EventsProcessor } from './events.processor';
import { ProcessingModule } from './processing.module';
import { QueuedMarksSweeper } from './queued-marks.sweeper';

/**
 * The Bull consumer: jobs → ProcessingModule's ProcessingService → Postgres; and the sweep of
 * "queued" marks whose job was lost; and the archive/retention pass's timer.
 */
@Module({
  imports: [QueueModule, ProcessingModule, ArchiveModule],
  providers: [EventsProcessor, QueuedMarksSweeper, ArchiveScheduler],
})
export class WorkerModule {}
