import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ApiError } from '../common/api-error';
import { ClientStateService } from './client-state.service';
import { ClientsRepository } from './clients.repository';

/** Owners of keys seen lately; bounded so that a flood of distinct keys cannot grow it. */
const MAX_CACHED_KEYS = 10_000;
/** Longer than any key this service issues: refused without hashing or a lookup. */
const MAX_KEY_LENGTH = 200;

export const hashWriteKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * Write keys of Segment-style SDKs. A key maps to its client and the client's secret generation
 * when it was issued, for good (the mapping is cached in process); whether that client may still
 * send is asked of ClientStateService on every request: revoking the client, removing its
 * `events:write` or rotating its secret refuses its keys at once in every process (Redis pub/sub
 * invalidation).
 */
@Injectable()
export class WriteKeysService {
  private readonly owners = new Map<string, { clientId: string; secretGen: number }>();

  constructor(
    private readonly clients: ClientsRepository,
    private readonly clientState: ClientStateService,
    private readonly audit: AuditService,
  ) {}

  /** A new key for an active client with `events:write`; the key is returned here only. */
  async issue(clientId: string, actorClientId: string): Promise<{ client_id: string; write_key: string }> {
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
    await this.clients.createWriteKey(hashWriteKey(key), clientId, client.secretGen);
    // Neither the key nor its hash is audited: the hash alone would let a reader confirm a leaked key.
    await this.audit.record({ actorClientId, action: 'write_key.issued', target: clientId });
    return { client_id: clientId, write_key: key };
  }

  /**
   * The client a write key sends as, or null when the key is unknown, its client revoked, without
   * `events:write`, or rotated since the key was issued.
   */
  async resolve(key: string): Promise<string | null> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) return null;
    const hash = hashWriteKey(key);
    let owner = this.owners.get(hash);
    if (owner === undefined) {
      const row = await this.clients.writeKeyOwner(hash);
      if (row === null) return null;
      owner = row;
      if (this.owners.size >= MAX_CACHED_KEYS) this.owners.clear();
      this.owners.set(hash, owner);
    }
    const state = await this.clientState.state(owner.clientId);
    const mayWrite =
      state.active && state.secretGeneration === owner.secretGen && state.scopes.includes('events:write');
    return mayWrite ? owner.clientId : null;
  }
}
