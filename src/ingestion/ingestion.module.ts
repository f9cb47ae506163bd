import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { EventProducer } from './event-producer.service';
import { EventStatusService } from './event-status.service';
import { IngestionController } from './ingestion.controller';
import { IngestionService } from './ingestion.service';

/** HTTP → envelope checks → Bull (the producer side of the queue). */
@Module({
  imports: [QueueModule],
  controllers: [IngestionController],
  providers: [IngestionService, EventProducer, EventStatusService],
  exports: [EventProducer],
})
export class IngestionModule {}
