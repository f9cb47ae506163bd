import { getQueueToken } from '@nestjs/bull';
import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import type Redis from 'ioredis';
import { EVENTS_QUEUE } from './queue.contract';

/**
 * The Redis connections Bull opens through our `createClient`. Bull closes only the connections
 * it creates itself (it assumes given ones may be shared), so without this the queue's three
 * connections outlive `app.close()` and keep the process (or a test run) alive.
 */
@Injectable()
export class QueueConnections implements OnApplicationShutdown {
  private readonly clients = new Set<Redis>();

  constructor(private readonly moduleRef: ModuleRef) {}

  track(client: Redis): Redis {
    this.clients.add(client);
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    // The queue first (it stops its timers and, in a worker, waits for active jobs): Nest may run
    // its own shutdown hook concurrently with this one, and close() is the same promise for both.
    const queue = this.moduleRef.get<Queue>(getQueueToken(EVENTS_QUEUE), { strict: false });
    await queue.close().catch(() => undefined);
    await Promise.all(
      [...this.clients].map((client) =>
        client.quit().then(
          () => undefined,
          () => client.disconnect(),
        ),
      ),
    );
    this.clients.clear();
  }
}

@Module({ providers: [QueueConnections], exports: [QueueConnections] })
export class QueueConnectionsModule {}
