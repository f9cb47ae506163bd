import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { redisOptionsFromUrl } from '../redis/redis-options';
import { REDIS } from '../redis/redis.module';
import { ClientUsageService } from './client-usage.service';
import { ClientsRepository } from './clients.repository';
import { type Scope, isScope } from './scopes';

const CHANNEL = 'the-eye:clients';

/**
 * What a valid token's (or write key's) client must still be: active, with the secret the
 * credential was issued under, and holding the scopes the credential uses.
 */
export interface ClientState {
  active: boolean;
  /** Bumped by every rotation of the client's secret; a token carries the one it was issued under. */
  secretGeneration: number;
  /** The client's scopes now: a token never carries more than these, whatever it says. */
  scopes: readonly Scope[];
}

const UNKNOWN: ClientState = Object.freeze({ active: false, secretGeneration: -1, scopes: [] });

/**
 * Is a client still active, which secret generation is current, which scopes does it hold now?
 * Answered from an in-process cache so that authenticated requests cost no database round trip,
 * and invalidated across every process of the deployment through Redis pub/sub the moment a
 * client is revoked, rotated or changed (PATCH). While this process is not subscribed (Redis
 * down, reconnecting) it cannot hear those changes, so the cache is bypassed and cleared: a
 * revoked client's tokens, or a removed scope, are refused at once either way.
 */
@Injectable()
export class ClientStateService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ClientStateService.name);
  private readonly active = new Map<string, ClientState>();
  private subscriber: Redis | undefined;
  private subscribed = false;
  /** Bumped on every invalidation: a lookup that raced with one is not cached. */
  private generation = 0;
  private readonly listeners: ((clientId: string | null) => void)[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly clients: ClientsRepository,
    private readonly usage: ClientUsageService,
  ) {}

  onModuleInit(): void {
    const sub = new Redis({ ...redisOptionsFromUrl(this.config.redisUrl), maxRetriesPerRequest: null });
    this.subscriber = sub;
    sub.on('error', () => undefined);
    sub.on('ready', () => {
      sub.subscribe(CHANNEL).then(
        () => {
          this.active.clear();
          this.subscribed = true;
          // Messages sent while we were not subscribed are lost: everything may have changed.
          this.notify(null);
        },
        (err: Error) => this.logger.warn(`cannot subscribe to ${CHANNEL}: ${err.message}`),
      );
    });
    sub.on('close', () => {
      this.subscribed = false;
      this.generation++;
      this.active.clear();
    });
    sub.on('message', (_channel: string, clientId: string) => {
      this.generation++;
      this.active.delete(clientId);
      this.notify(clientId);
    });
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  /** Whether invalidations are heard now: other per-client caches may only cache while it is true. */
  get listening(): boolean {
    return this.subscribed;
  }

  /**
   * The client's current state; an unknown client is inactive. Asked on every authenticated
   * request, so it also notes the client's use (last_used_at).
   */
  async state(clientId: string): Promise<ClientState> {
    this.usage.touch(clientId);
    const cached = this.subscribed ? this.active.get(clientId) : undefined;
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const row = await this.clients.state(clientId);
    const state: ClientState =
      row === null
        ? UNKNOWN
        : {
            active: row.revokedAt === null,
            secretGeneration: row.secretGen,
            scopes: Object.freeze(row.scopes.filter(isScope)),
          };
    if (this.subscribed && generation === this.generation) this.active.set(clientId, state);
    return state;
  }

  /**
   * Other per-client caches (the rate limiter's limits) hear every invalidation, this process's and
   * the others', with `null` when some may have been missed (after a reconnection).
   */
  onInvalidate(listener: (clientId: string | null) => void): void {
    this.listeners.push(listener);
  }

  private notify(clientId: string | null): void {
    for (const listener of this.listeners) listener(clientId);
  }

  /** Tell every process (this one included) to forget what it knows of `clientId`. */
  async invalidate(clientId: string): Promise<void> {
    this.generation++;
    this.active.delete(clientId);
    this.notify(clientId);
    try {
      await this.redis.publish(CHANNEL, clientId);
    } catch (err) {
      // Processes that miss the message are not subscribed, hence not caching: still correct.
      this.logger.warn(`change of ${clientId} not broadcast: ${(err as Error).message}`);
    }
  }
}
