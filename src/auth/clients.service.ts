import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ApiError } from '../common/api-error';
import { CLIENT_ID_MAX_LENGTH } from '../common/limits';
import { ClientStateService } from './client-state.service';
import { announceGeneratedAdmin } from './generated-admin-notice';
import { type ClientRecord, ClientsRepository } from './clients.repository';
import { type Scope, isScope } from './scopes';
import { QueueFullError } from './fair-semaphore';
import {
  DUMMY_HASH,
  hashSecret,
  newClientId,
  newSecret,
  verifySecret,
  verifySecretFairly,
} from './secret-hash';

export interface ClientView {
  client_id: string;
  name: string;
  scopes: Scope[];
  created_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  rate_limit: number | null;
}

export interface ClientChanges {
  name?: string;
  scopes?: Scope[];
  /** null = back to the default. */
  rate_limit?: number | null;
}

export interface ClientWithSecret extends ClientView {
  client_secret: string;
}

/** The id of the admin that development mode generates when ADMIN_CLIENT_ID is not set. */
export const GENERATED_ADMIN_ID = 'admin';
/** The audit trail's actor of what the environment does at start (no client id has parentheses). */
export const BOOTSTRAP_ACTOR = '(environment)';

function toView(row: ClientRecord): ClientView {
  return {
    client_id: row.id,
    name: row.name,
    scopes: row.scopes.filter(isScope),
    created_at: row.createdAt.toISOString(),
    rotated_at: row.rotatedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    rate_limit: row.rateLimit,
  };
}

@Injectable()
export class ClientsService {
  private readonly logger = new Logger(ClientsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: ClientsRepository,
    private readonly clientState: ClientStateService,
    private readonly audit: AuditService,
  ) {}

  async create(name: string, scopes: Scope[], actorClientId: string): Promise<ClientWithSecret> {
    const secret = newSecret();
    const row = await this.clients.create({
      id: newClientId(),
      name,
      scopes: [...new Set(scopes)],
      secretHash: await hashSecret(secret),
    });
    await this.audit.record({
      actorClientId,
      action: 'client.created',
      target: row.id,
      details: { name: row.name, scopes: row.scopes },
    });
    return { ...toView(row), client_secret: secret };
  }

  async list(): Promise<ClientView[]> {
    const rows = await this.clients.list();
    return rows.map(toView);
  }

  /** Changes what was sent; the rate limit reaches every process at once (client invalidation). */
  async update(clientId: string, changes: ClientChanges, actorClientId: string): Promise<ClientView> {
    if (changes.name === undefined && changes.scopes === undefined && changes.rate_limit === undefined) {
      throw ApiError.validation(
        [{ path: '/', message: 'send at least one of name, scopes, rate_limit' }],
        'Nothing to change',
      );
    }
    this.refuseBootstrapAdmin(clientId, 'changed');
    const existing = await this.clients.find(clientId);
    if (!existing) throw ApiError.notFound(`No client ${clientId}`);
    if (existing.revokedAt) throw new ApiError(409, 'conflict', `Client ${clientId} is revoked`);
    const data: { name?: string; scopes?: Scope[]; rateLimit?: number | null } = {};
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    if (changes.name !== undefined && changes.name !== existing.name) {
      data.name = changes.name;
      diff.name = { from: existing.name, to: changes.name };
    }
    if (changes.scopes !== undefined) {
      const scopes = [...new Set(changes.scopes)];
      if (scopes.join(' ') !== existing.scopes.join(' ')) {
        data.scopes = scopes;
        diff.scopes = { from: existing.scopes, to: scopes };
      }
    }
    if (changes.rate_limit !== undefined && changes.rate_limit !== existing.rateLimit) {
      data.rateLimit = changes.rate_limit;
      diff.rate_limit = { from: existing.rateLimit, to: changes.rate_limit };
    }
    if (Object.keys(diff).length === 0) return toView(existing);
    const row = await this.clients.update(clientId, data);
    await this.clientState.invalidate(clientId);
    await this.audit.record({ actorClientId, action: 'client.updated', target: clientId, details: diff });
    return toView(row);
  }

  async revoke(clientId: string, actorClientId: string): Promise<ClientView> {
    this.refuseBootstrapAdmin(clientId, 'revoked');
    const existing = await this.clients.find(clientId);
    if (!existing) throw ApiError.notFound(`No client ${clientId}`);
    const row = existing.revokedAt ? existing : await this.clients.revoke(clientId);
    await this.clientState.invalidate(clientId);
    if (!existing.revokedAt)
      await this.audit.record({ actorClientId, action: 'client.revoked', target: clientId });
    return toView(row);
  }

  async rotate(
    clientId: string,
    actorClientId: string,
  ): Promise<{ client_id: string; client_secret: string }> {
    this.refuseBootstrapAdmin(clientId, 'rotated');
    const secret = newSecret();
    const secretHash = await hashSecret(secret);
    // A new generation refuses every token issued before (see AuthGuard), in every process.
    if (!(await this.clients.rotateSecret(clientId, secretHash)))
      throw ApiError.notFound(`No active client ${clientId}`);
    await this.clientState.invalidate(clientId);
    await this.audit.record({ actorClientId, action: 'client.rotated', target: clientId });
    return { client_id: clientId, client_secret: secret };
  }

  /**
   * Checks client credentials; null when they are wrong or the client is revoked. `source` (the
   * caller's address) gets its fair share of the bounded secret hashing; 429 when it has too many
   * verifications waiting already.
   */
  async authenticate(
    clientId: string,
    secret: string,
    source: string,
  ): Promise<{ clientId: string; scopes: Scope[]; secretGeneration: number } | null> {
    const row = clientId.length <= CLIENT_ID_MAX_LENGTH ? await this.clients.find(clientId) : null;
    let ok: boolean;
    try {
      ok = await verifySecretFairly(source, secret, row?.secretHash ?? DUMMY_HASH);
    } catch (err) {
      if (err instanceof QueueFullError)
        throw ApiError.rateLimited(
          'Too many token requests waiting for a secret check (from this address, or in all)',
          1,
        );
      throw err;
    }
    if (!row || !ok || row.revokedAt) return null;
    await this.clients.markUsed([row.id]);
    return { clientId: row.id, scopes: row.scopes.filter(isScope), secretGeneration: row.secretGen };
  }

  /**
   * ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET from the environment become (or update) an admin client.
   * Unset outside production: an admin `admin` is created once with a generated secret, printed
   * once on the console; later starts find it and print nothing.
   */
  async bootstrapAdmin(): Promise<void> {
    const { adminClientId, adminClientSecret } = this.config;
    if (adminClientId && adminClientSecret) {
      const row = await this.clients.find(adminClientId);
      const reasons: string[] = [];
      if (row !== null) {
        if (!(await verifySecret(adminClientSecret, row.secretHash)))
          reasons.push('ADMIN_CLIENT_SECRET changed');
        if (row.revokedAt) reasons.push('was revoked');
        if (!row.scopes.includes('admin')) reasons.push('had lost the admin scope');
      }
      if (row === null || reasons.length > 0) {
        const secretHash = await hashSecret(adminClientSecret);
        await this.clients.upsertAdmin(adminClientId, 'bootstrap admin (ADMIN_CLIENT_ID)', secretHash);
        await this.clientState.invalidate(adminClientId);
        // A re-key from the environment is an admin action like a rotation: it goes on the trail.
        await this.audit.record(
          row === null
            ? {
                actorClientId: BOOTSTRAP_ACTOR,
                action: 'client.created',
                target: adminClientId,
                details: { bootstrap: true, scopes: ['admin'] },
              }
            : {
                actorClientId: BOOTSTRAP_ACTOR,
                action: 'client.rotated',
                target: adminClientId,
                details: { bootstrap: true, reason: reasons.join(', ') },
              },
        );
      }
      return;
    }
    if (this.config.nodeEnv === 'production')
      throw new Error('ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET are required in production');
    const secret = newSecret();
    const created = await this.clients.createIfAbsent({
      id: GENERATED_ADMIN_ID,
      name: 'generated development admin',
      scopes: ['admin'],
      secretHash: await hashSecret(secret),
    });
    if (created) {
      await this.audit.record({
        actorClientId: BOOTSTRAP_ACTOR,
        action: 'client.created',
        target: GENERATED_ADMIN_ID,
        details: { bootstrap: true, scopes: ['admin'] },
      });
      // Printed once, on purpose: this is the only copy of the secret.
      announceGeneratedAdmin(this.logger, GENERATED_ADMIN_ID, secret);
    }
  }

  private refuseBootstrapAdmin(clientId: string, what: string): void {
    if (clientId === this.config.adminClientId) {
      throw new ApiError(
        409,
        'conflict',
        `The bootstrap admin is configured by ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET and cannot be ${what} here`,
      );
    }
  }
}
