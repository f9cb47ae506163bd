import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { EventsProcessor } from './events.processor';
import { ProcessingModule } from './processing.module';
import { QueuedMarksSweeper } from './queued-marks.sweeper';

/**
 * The Bull consumer: jobs → ProcessingModule's ProcessingService → Postgres; and the sweep of
 * "queued" marks whose job was lost.
 */
@Module({
  imports: [QueueModule, ProcessingModule],
  providers: [EventsProcessor, QueuedMarksSweeper],
})
export class WorkerModule {}
