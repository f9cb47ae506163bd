import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { SchemasModule } from '../schemas/schemas.module';
import { ProcessingService } from './processing.service';
import { ReplayController } from './replay.controller';
import { ReplayService } from './replay.service';

/** Quarantine replay (HTTP side): the worker's checks and storage, run on request. */
@Module({
  imports: [QueueModule, SchemasModule],
  controllers: [ReplayController],
  providers: [ProcessingService, ReplayService],
})
export class ReplayModule {}
