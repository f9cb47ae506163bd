import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { SchemasModule } from '../schemas/schemas.module';
import { EventsProcessor } from './events.processor';
import { ProcessingService } from './processing.service';

/** Bull consumer → payload validation (validator registry) → Postgres. */
@Module({
  imports: [QueueModule, SchemasModule],
  providers: [EventsProcessor, ProcessingService],
  exports: [ProcessingService],
})
export class ProcessingModule {}
