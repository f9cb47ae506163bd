import { Module } from '@nestjs/common';
import { ArchiveModule } from '../archive/archive.module';
import { QueueModule } from '../queue/queue.module';
import { SchemasModule } from '../schemas/schemas.module';
import { ArchivedEvents } from './archived-events.service';
import { EventStatusService } from './event-status.service';
import { EventsRepository } from './events.repository';
import { ProcessingService } from './processing.service';
import { ReplayController } from './replay.controller';
import { ReplayService } from './replay.service';

/**
 * Events and their quarantine: checking and storing them (ProcessingService, one group commit per
 * process), their status, and the replay of the quarantine. All their SQL is in EventsRepository.
 * The Bull consumer is WorkerModule, imported only by processes that consume the queue.
 */
@Module({
  imports: [QueueModule, SchemasModule, ArchiveModule],
  controllers: [ReplayController],
  providers: [EventsRepository, ProcessingService, EventStatusService, ReplayService, ArchivedEvents],
  exports: [ProcessingService, EventStatusService],
})
export class ProcessingModule {}
