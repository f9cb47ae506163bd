import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { redisOptionsFromUrl } from '../redis/redis-options';
import { QueueConnections, QueueConnectionsModule } from './queue-connections';
import { DEFAULT_JOB_OPTIONS, EVENTS_QUEUE, QUEUE_PREFIX } from './queue.contract';

/**
 * The Bull queue of events. All Bull specifics live here and in queue.contract.ts, so that
 * moving to BullMQ later touches this folder, the producer and the processor only.
 */
@Module({
  imports: [
    BullModule.forRootAsync({
      imports: [QueueConnectionsModule],
      inject: [APP_CONFIG, QueueConnections],
      useFactory: (config: AppConfig, connections: QueueConnections) => {
        const base = redisOptionsFromUrl(config.redisUrl);
        return {
          prefix: QUEUE_PREFIX,
          defaultJobOptions: DEFAULT_JOB_OPTIONS,
          // The version check sends INFO at construction; with the offline queue off it would fail
          // while Redis is down and leave the queue unusable.
          skipVersionCheck: true,
          settings: {
            lockDuration: config.jobLockMs,
            lockRenewTime: Math.floor(config.jobLockMs / 2),
            stalledInterval: config.jobLockMs,
            // A job whose worker died is retried however often that happens: never dropped.
            maxStalledCount: 1_000,
          },
          createClient: (type: 'client' | 'subscriber' | 'bclient') => {
            if (type === 'client') {
              // Commands (job adds on request paths) fail at once while Redis is down instead
              // of waiting in ioredis' offline queue: ingestion answers 503, it never hangs.
              return connections.track(
                new Redis({ ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
              );
            }
            return connections.track(
              new Redis({ ...base, maxRetriesPerRequest: null, enableReadyCheck: false }),
            );
          },
        };
      },
    }),
    BullModule.registerQueue({ name: EVENTS_QUEUE }),
  ],
  exports: [BullModule],
})
export class QueueModule {}
