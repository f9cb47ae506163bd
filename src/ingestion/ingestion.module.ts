import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ProcessingModule } from '../processing/processing.module';
import { QueueModule } from '../queue/queue.module';
import { EventProducer } from './event-producer.service';
import { IngestionController } from './ingestion.controller';
import { IngestionRoutes } from './ingestion.routes';
import { IngestionService } from './ingestion.service';
import { RateLimiter } from './rate-limiter.service';

/** HTTP → envelope checks → Bull (the producer side of the queue). */
@Module({
  imports: [QueueModule, AuthModule, ProcessingModule],
  controllers: [IngestionController],
  providers: [IngestionService, IngestionRoutes, EventProducer, RateLimiter],
  exports: [EventProducer, RateLimiter],
})
export class IngestionModule {}
