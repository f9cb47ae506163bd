import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { EventsProcessor } from './events.processor';
import { ProcessingModule } from './processing.module';

/** The Bull consumer: jobs → ProcessingModule's ProcessingService → Postgres. */
@Module({
  imports: [QueueModule, ProcessingModule],
  providers: [EventsProcessor],
})
export class WorkerModule {}
