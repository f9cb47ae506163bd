import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { ClientStateService } from '../auth/client-state.service';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ClientsRepository } from '../auth/clients.repository';
import { REDIS } from '../redis/redis.module';

/** How often each process adds its counts to Redis and learns the others'. */
const SYNC_MS = 100;
/** A client's events since the last sync that trigger one at once (fraction of its limit). */
const EARLY_SYNC_FRACTION = 0.1;
/**
 * A client seen here within this long keeps being synced every SYNC_MS even while it sends nothing
 * here, so that its first request of a second is judged on the other processes' counts too.
 */
const KEEP_MS = 10_000;
/** Backstop for a missed invalidation: the per-client limits are reread this often. */
const RELOAD_MS = 30_000;
const KEY_PREFIX = 'the-eye:rate';

/** One client's count for the current second, as this process knows it. */
interface Window {
  second: number;
  /** Last request here (epoch ms). */
  seenAt: number;
  /** The client's count (all processes) for `second` at the last sync. */
  global: number;
  /** Counted here, being added to Redis right now. */
  inflight: number;
  /** Counted here since, not yet sent. */
  pending: number;
}

/**
 * Per-client rate limit (events per second), shared by every API process through Redis without a
 * Redis round trip per request: each process counts locally and, every SYNC_MS (or as soon as a
 * client's local count reaches a tenth of its limit), adds its counts to a per-client, per-second
 * key (INCRBY, one pipeline for all clients) and reads back the total. A request is refused when
 * total-at-last-sync + counted-here-since + its events is over the limit. Slack: what other
 * processes admitted since the last sync, at most about a tenth of the limit per process.
 *
 * Clients without a limit (RATE_LIMIT_EVENTS_PER_SECOND=0 and no `rate_limit` of their own) cost
 * one Map lookup. Limits set by PATCH /v1/clients reach every process through the client
 * invalidation channel (ClientStateService).
 */
@Injectable()
export class RateLimiter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiter.name);
  /** Clients with a limit of their own (0 = unlimited). */
  private overrides = new Map<string, number>();
  private readonly windows = new Map<string, Window>();
  private syncing = false;
  private earlySync = false;
  private timer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly clients: ClientsRepository,
    private readonly clientState: ClientStateService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reloadAll();
    this.clientState.onInvalidate(
      (clientId) => void (clientId === null ? this.reloadAll() : this.reload(clientId)),
    );
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
    this.reloadTimer = setInterval(() => void this.reloadAll(), RELOAD_MS);
    this.reloadTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    clearInterval(this.reloadTimer);
  }

  /** Counts `events` for the client, or throws 429 (over its limit this second) / 413. */
  take(clientId: string, events: number): void {
    const limit = this.overrides.get(clientId) ?? this.config.rateLimitEventsPerSecond;
    this.count(clientId, events, limit, 'this client');
  }

  /**
   * Counts `events` against another budget than a client's (`bucket`, e.g. one write key or one
   * source address; 0 = unlimited), shared across processes like the clients' (429 / 413).
   */
  takeFrom(bucket: string, events: number, limit: number, who: string): void {
    this.count(bucket, events, limit, who);
  }

  /**
   * Whether `bucket` has used its whole budget this second already (nothing counted): lets a flood
   * be refused before its body is even read.
   */
  exhausted(bucket: string, limit: number): boolean {
    if (limit === 0) return false;
    const w = this.windows.get(bucket);
    if (w === undefined || w.second !== Math.floor(Date.now() / 1000)) return false;
    return w.global + w.inflight + w.pending >= limit;
  }

  private count(bucket: string, events: number, limit: number, who: string): void {
    if (limit === 0) return;
    if (events > limit) {
      throw new ApiError(
        413,
        'payload_too_large',
        `This request holds ${events} events, more than ${who} may send in a second (${limit}): send smaller batches`,
      );
    }
    const now = Date.now();
    const second = Math.floor(now / 1000);
    let w = this.windows.get(bucket);
    if (w === undefined) {
      w = { second, seenAt: now, global: 0, inflight: 0, pending: 0 };
      this.windows.set(bucket, w);
    } else {
      if (w.second !== second) roll(w, second);
      w.seenAt = now;
    }
    if (w.global + w.inflight + w.pending + events > limit) {
      throw ApiError.rateLimited(
        `${who[0].toUpperCase()}${who.slice(1)} may send ${limit} events per second`,
        1,
      );
    }
    w.pending += events;
    if (w.pending >= limit * EARLY_SYNC_FRACTION && !this.earlySync) {
      this.earlySync = true;
      setImmediate(() => {
        this.earlySync = false;
        void this.sync();
      });
    }
  }

  /** Adds every client's local count to Redis and reads back the totals, in one pipeline. */
  async sync(): Promise<void> {
    if (this.syncing || this.windows.size === 0) return;
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const sent: Window[] = [];
    const pipeline = this.redis.pipeline();
    for (const [clientId, w] of this.windows) {
      if (now - w.seenAt > KEEP_MS) {
        this.windows.delete(clientId);
        continue;
      }
      if (w.second !== second) roll(w, second);
      const key = `${KEY_PREFIX}:${clientId}:${second}`;
      w.inflight = w.pending;
      w.pending = 0;
      // INCRBY 0 for a client quiet here: reads what the other processes counted.
      pipeline.incrby(key, w.inflight).expire(key, 2);
      sent.push(w);
    }
    if (sent.length === 0) return;
    this.syncing = true;
    try {
      const replies = await pipeline.exec();
      sent.forEach((w, i) => {
        if (w.second !== second) return;
        const [err, total] = replies?.[2 * i] ?? [new Error('no reply'), null];
        if (err) {
          w.pending += w.inflight;
        } else {
          w.global = Number(total);
        }
        w.inflight = 0;
      });
    } catch (err) {
      // Redis unreachable: keep counting locally (ingestion answers 503 meanwhile anyway).
      for (const w of sent) {
        if (w.second === second) w.pending += w.inflight;
        w.inflight = 0;
      }
      this.logger.debug(`rate-limit sync failed: ${(err as Error).message}`);
    } finally {
      this.syncing = false;
    }
  }

  private async reloadAll(): Promise<void> {
    try {
      this.overrides = await this.clients.rateLimits();
    } catch (err) {
      this.logger.warn(`per-client rate limits not reloaded: ${(err as Error).message}`);
    }
  }

  private async reload(clientId: string): Promise<void> {
    try {
      const limit = await this.clients.rateLimit(clientId);
      if (limit === null) this.overrides.delete(clientId);
      else this.overrides.set(clientId, limit);
    } catch (err) {
      this.logger.warn(`rate limit of ${clientId} not reloaded: ${(err as Error).message}`);
    }
  }
}

/** A new second: nothing counted yet, here or (as far as this process knows) elsewhere. */
function roll(w: Window, second: number): void {
  w.second = second;
  w.global = 0;
  w.inflight = 0;
  w.pending = 0;
}
