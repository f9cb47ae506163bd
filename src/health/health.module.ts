import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';
import { OpsController } from './ops.controller';
import { OpsService } from './ops.service';

@Module({
  imports: [QueueModule],
  controllers: [HealthController, OpsController],
  providers: [HealthRepository, OpsService],
})
export class HealthModule {}
