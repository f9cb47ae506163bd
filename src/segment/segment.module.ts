import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IngestionModule } from '../ingestion/ingestion.module';
import { SegmentBrowserController } from './segment-browser.controller';
import { SegmentController } from './segment.controller';
import { SegmentService } from './segment.service';

/** Segment's HTTP Tracking API → the same queue as /v1/events (the producer side). */
@Module({
  imports: [AuthModule, IngestionModule],
  controllers: [SegmentController, SegmentBrowserController],
  providers: [SegmentService],
})
export class SegmentModule {}
