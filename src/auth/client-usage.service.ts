import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ClientsRepository } from './clients.repository';

/** A client's authenticated requests move its last_used_at at most this often (per process). */
export const USAGE_RESOLUTION_MS = 60_000;
const FLUSH_EVERY_MS = 5_000;

/**
 * `last_used_at` of clients without a database write per request: touch() costs a Map lookup,
 * marks a client at most once per USAGE_RESOLUTION_MS, and the marked clients are written in one
 * UPDATE every few seconds (and at shutdown).
 */
@Injectable()
export class ClientUsageService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ClientUsageService.name);
  private readonly markedAt = new Map<string, number>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly clients: ClientsRepository) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** The client made an authenticated request now. */
  touch(clientId: string, now = Date.now()): void {
    const last = this.markedAt.get(clientId);
    if (last !== undefined && now - last < USAGE_RESOLUTION_MS) return;
    this.markedAt.set(clientId, now);
    this.pending.add(clientId);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    // Forget clients not seen for a while, so the map stays the size of the active clients.
    const horizon = Date.now() - 2 * USAGE_RESOLUTION_MS;
    for (const [id, at] of this.markedAt) if (at < horizon) this.markedAt.delete(id);
    try {
      await this.clients.markUsed(ids);
    } catch (err) {
      this.logger.warn(`last_used_at of ${ids.length} clients not written: ${(err as Error).message}`);
    }
  }
}
