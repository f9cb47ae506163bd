import { Inject, Injectable } from '@nestjs/common';
import { FairSemaphore, QueueFullError } from '../auth/fair-semaphore';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/config';

/** Seconds a client over its cap is told to wait: a funnel or an export chunk takes about that. */
const RETRY_AFTER_S = 1;

/**
 * Heavy reads (funnels, exports) kept from taking every analytics connection:
 * - per client, at most ANALYTICS_MAX_CONCURRENT_PER_CLIENT at once for their whole life (an export
 *   from its first query until its stream closes, finished or aborted); one more is 429 with
 *   Retry-After, never a wait;
 * - across clients, their statements share all but one of the pool's connections, handed out
 *   round-robin per client (FairSemaphore), so light reads (a session's timeline, counts) always
 *   find a connection and one client's statements never queue ahead of another's.
 * Per process: with several API processes each applies its own caps.
 */
@Injectable()
export class HeavyReads {
  private readonly maxPerClient: number;
  private readonly inFlight = new Map<string, number>();
  private readonly statements: FairSemaphore;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'analyticsMaxConcurrentPerClient' | 'analyticsPoolSize'>,
  ) {
    this.maxPerClient = config.analyticsMaxConcurrentPerClient;
    this.statements = new FairSemaphore(Math.max(1, config.analyticsPoolSize - 1), this.maxPerClient);
  }

  /**
   * Takes one of the client's slots, or throws 429. The returned function gives it back; calling it
   * again does nothing (a stream's end and its close both call it).
   */
  acquire(clientId: string): () => void {
    const n = this.inFlight.get(clientId) ?? 0;
    if (n >= this.maxPerClient) {
      throw ApiError.rateLimited(
        `At most ${this.maxPerClient} funnels or exports run at once per client ` +
          '(ANALYTICS_MAX_CONCURRENT_PER_CLIENT): retry when one has finished',
        RETRY_AFTER_S,
      );
    }
    this.inFlight.set(clientId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(clientId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(clientId, left);
      else this.inFlight.delete(clientId);
    };
  }

  /** A whole heavy read in one call (a funnel): slot taken, statement run fairly, slot given back. */
  async run<T>(clientId: string, statement: () => Promise<T>): Promise<T> {
    const release = this.acquire(clientId);
    try {
      return await this.statement(clientId, statement);
    } finally {
      release();
    }
  }

  /** One statement of a heavy read the client already holds a slot for, in its fair turn. */
  async statement<T>(clientId: string, statement: () => Promise<T>): Promise<T> {
    try {
      return await this.statements.run(clientId, statement);
    } catch (err) {
      if (err instanceof QueueFullError)
        throw ApiError.rateLimited('Too many heavy analytics reads waiting for this client', RETRY_AFTER_S);
      throw err;
    }
  }
}
