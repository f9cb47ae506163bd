import { Module } from '@nestjs/common';

/** Query endpoints for analysts (scope events:read). */
@Module({})
export class AnalyticsModule {}
