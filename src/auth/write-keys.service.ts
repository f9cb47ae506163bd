import { createHash, randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ApiError, type FieldError } from '../common/api-error';
import { ClientStateService } from './client-state.service';
import { USAGE_RESOLUTION_MS } from './client-usage.service';
import { ClientsRepository } from './clients.repository';
import type { WriteKeyDto, WriteKeyInfoDto } from './write-keys.dto';
import { type WriteKeyRecord, WriteKeysRepository } from './write-keys.repository';

/** Keys (and preflight origins) remembered; bounded so that a flood of distinct values cannot grow them. */
const MAX_CACHED = 10_000;
/** Longer than any key this service issues: refused without hashing or a lookup. */
const MAX_KEY_LENGTH = 200;
/** Characters of a key shown in lists: recognisable, useless to an attacker (~40 of its 256 bits). */
const PREFIX_LENGTH = 10;
/** How long a preflight's answer for an origin is reused in this process (keys change rarely). */
const PREFLIGHT_CACHE_MS = 5_000;
const USAGE_FLUSH_MS = 5_000;

export const hashWriteKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** What a request's write key stands for. */
export interface ResolvedWriteKey {
  keyId: string;
  clientId: string;
  /** The client's secret generation when the key was issued: a rotation since refuses the key. */
  secretGen: number;
  /** Empty: any origin. */
  allowedOrigins: readonly string[];
}

/**
 * Write keys of Segment-style SDKs, public credentials in web pages: each can be listed, limited to
 * origins, and revoked alone. Keys are cached in process; revoking or changing one (or its client)
 * goes through ClientStateService's invalidation channel, so every process forgets it at once, and
 * nothing is cached while that channel is not listening.
 */
@Injectable()
export class WriteKeysService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(WriteKeysService.name);
  private readonly keys = new Map<string, ResolvedWriteKey>();
  /** Lookups in flight, shared by the requests that need the same one (no herd on a cold cache). */
  private readonly lookups = new Map<string, Promise<ResolvedWriteKey | null>>();
  private readonly preflights = new Map<string, { allowed: Promise<boolean>; at: number }>();
  /** Bumped on every invalidation: a lookup that raced with one is not cached. */
  private generation = 0;
  private readonly usedAt = new Map<string, number>();
  private pendingUse = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clients: ClientsRepository,
    private readonly repo: WriteKeysRepository,
    private readonly clientState: ClientStateService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.clientState.onInvalidate((clientId) => {
      this.generation++;
      this.preflights.clear();
      this.lookups.clear();
      if (clientId === null) this.keys.clear();
      else for (const [hash, k] of this.keys) if (k.clientId === clientId) this.keys.delete(hash);
    });
    this.timer = setInterval(() => void this.flushUsage(), USAGE_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushUsage();
  }

  /** A new key for an active client with `events:write`; the key is returned here only. */
  async issue(clientId: string, actorClientId: string, origins: string[] = []): Promise<WriteKeyDto> {
    const allowedOrigins = normalizeOrigins(origins);
    const client = await this.clients.find(clientId);
    if (!client) throw ApiError.notFound(`No client ${clientId}`);
    if (client.revokedAt) throw new ApiError(409, 'conflict', `Client ${clientId} is revoked`);
    if (!client.scopes.includes('events:write')) {
      throw new ApiError(
        409,
        'conflict',
        `Client ${clientId} does not have the events:write scope; a write key can only send events, so it needs it`,
      );
    }
    // 256 random bits: the key cannot be guessed, so an unsalted SHA-256 is a safe lookup key.
    const key = `wk_${randomBytes(32).toString('base64url')}`;
    const keyId = `key_${randomBytes(10).toString('hex')}`;
    await this.repo.create({
      keyHash: hashWriteKey(key),
      keyId,
      prefix: key.slice(0, PREFIX_LENGTH),
      clientId,
      secretGen: client.secretGen,
      allowedOrigins,
    });
    this.preflights.clear();
    // Neither the key nor its hash is audited: the hash alone would let a reader confirm a leaked key.
    await this.audit.record({
      actorClientId,
      action: 'write_key.issued',
      target: clientId,
      details: { key_id: keyId, allowed_origins: allowedOrigins },
    });
    return { client_id: clientId, key_id: keyId, write_key: key, allowed_origins: allowedOrigins };
  }

  async list(clientId: string): Promise<WriteKeyInfoDto[]> {
    if (!(await this.clients.find(clientId))) throw ApiError.notFound(`No client ${clientId}`);
    return (await this.repo.list(clientId)).map(toInfo);
  }

  /** Revokes one key at once, in every process; revoking a revoked key changes nothing. */
  async revoke(clientId: string, keyId: string, actorClientId: string): Promise<WriteKeyInfoDto> {
    const before = await this.repo.find(clientId, keyId);
    if (!before) throw ApiError.notFound(`Client ${clientId} has no write key ${keyId}`);
    const after = (await this.repo.revoke(clientId, keyId)) ?? before;
    if (before.revokedAt === null) {
      await this.clientState.invalidate(clientId);
      await this.audit.record({
        actorClientId,
        action: 'write_key.revoked',
        target: clientId,
        details: { key_id: keyId },
      });
    }
    return toInfo(after);
  }

  async setAllowedOrigins(
    clientId: string,
    keyId: string,
    origins: string[],
    actorClientId: string,
  ): Promise<WriteKeyInfoDto> {
    const allowedOrigins = normalizeOrigins(origins);
    const updated = await this.repo.setAllowedOrigins(clientId, keyId, allowedOrigins);
    if (!updated) throw ApiError.notFound(`Client ${clientId} has no write key ${keyId}`);
    await this.clientState.invalidate(clientId);
    await this.audit.record({
      actorClientId,
      action: 'write_key.updated',
      target: clientId,
      details: { key_id: keyId, allowed_origins: allowedOrigins },
    });
    return toInfo(updated);
  }

  /**
   * The key's identity, or null when it is unknown or revoked, or its client is revoked, lacks
   * `events:write`, or rotated its secret since the key was issued.
   */
  async resolve(key: string): Promise<ResolvedWriteKey | null> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) return null;
    const hash = hashWriteKey(key);
    let resolved: ResolvedWriteKey | null | undefined = this.clientState.listening
      ? this.keys.get(hash)
      : undefined;
    if (resolved === undefined) {
      let lookup = this.lookups.get(hash);
      if (lookup === undefined) {
        const shared = this.lookup(hash).finally(() => {
          if (this.lookups.get(hash) === shared) this.lookups.delete(hash);
        });
        lookup = shared;
        this.lookups.set(hash, shared);
      }
      resolved = await lookup;
      if (resolved === null) return null;
    }
    const state = await this.clientState.state(resolved.clientId);
    const mayWrite =
      state.active && state.secretGeneration === resolved.secretGen && state.scopes.includes('events:write');
    if (!mayWrite) return null;
    this.touch(resolved.keyId);
    return resolved;
  }

  /** Whether a CORS preflight from `origin` may be answered: some active key allows it. */
  preflightAllowed(origin: string): Promise<boolean> {
    const now = Date.now();
    const cached = this.preflights.get(origin);
    if (cached !== undefined && now - cached.at < PREFLIGHT_CACHE_MS) return cached.allowed;
    // The promise is cached, not its value: requests arriving during the lookup share it.
    const allowed = this.repo.anyKeyAllows(origin);
    if (this.preflights.size >= MAX_CACHED) this.preflights.clear();
    const entry = { allowed, at: now };
    this.preflights.set(origin, entry);
    allowed.catch(() => {
      if (this.preflights.get(origin) === entry) this.preflights.delete(origin);
    });
    return allowed;
  }

  /** The key by its hash from the database, cached unless an invalidation raced with the read. */
  private async lookup(hash: string): Promise<ResolvedWriteKey | null> {
    const generation = this.generation;
    const row = await this.repo.byHash(hash);
    if (row === null || row.revokedAt !== null) return null;
    const resolved = {
      keyId: row.keyId,
      clientId: row.clientId,
      secretGen: row.secretGen,
      allowedOrigins: row.allowedOrigins,
    };
    if (this.clientState.listening && generation === this.generation) {
      if (this.keys.size >= MAX_CACHED) this.keys.clear();
      this.keys.set(hash, resolved);
    }
    return resolved;
  }

  private touch(keyId: string, now = Date.now()): void {
    const last = this.usedAt.get(keyId);
    if (last !== undefined && now - last < USAGE_RESOLUTION_MS) return;
    this.usedAt.set(keyId, now);
    this.pendingUse.add(keyId);
  }

  private async flushUsage(): Promise<void> {
    if (this.pendingUse.size === 0) return;
    const ids = [...this.pendingUse];
    this.pendingUse = new Set();
    const horizon = Date.now() - 2 * USAGE_RESOLUTION_MS;
    for (const [id, at] of this.usedAt) if (at < horizon) this.usedAt.delete(id);
    try {
      await this.repo.markUsed(ids);
    } catch (err) {
      this.logger.warn(`last_used_at of ${ids.length} write keys not written: ${(err as Error).message}`);
    }
  }
}

/** Whether a page of `origin` (its Origin header) may use the key. */
export function originAllowed(key: ResolvedWriteKey, origin: string): boolean {
  return key.allowedOrigins.length === 0 || key.allowedOrigins.includes(origin);
}

/** Each origin as a browser writes it (lower-case, default port dropped); 400 for anything else. */
function normalizeOrigins(origins: string[]): string[] {
  const errors: FieldError[] = [];
  const out = new Set<string>();
  origins.forEach((raw, i) => {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      // reported below
    }
    const bare =
      url !== undefined &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.username === '' &&
      url.password === '' &&
      url.pathname === '/' &&
      url.search === '' &&
      url.hash === '';
    if (!bare)
      errors.push({ path: `/allowed_origins/${i}`, message: 'must be an origin: scheme://host[:port]' });
    else out.add(url!.origin);
  });
  if (errors.length > 0) throw ApiError.validation(errors, 'The allowed origins are not valid');
  return [...out];
}

function toInfo(k: WriteKeyRecord): WriteKeyInfoDto {
  return {
    key_id: k.keyId,
    client_id: k.clientId,
    prefix: k.prefix,
    allowed_origins: k.allowedOrigins,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
  };
}
