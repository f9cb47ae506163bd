import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ApiError } from '../common/api-error';
import { PrismaService } from '../prisma/prisma.service';
import { ClientStateService } from './client-state.service';
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

interface ClientRow {
  id: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  rateLimit: number | null;
}

function toView(row: ClientRow): ClientView {
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
    private readonly prisma: PrismaService,
    private readonly clientState: ClientStateService,
    private readonly audit: AuditService,
  ) {}

  async create(name: string, scopes: Scope[], actorClientId: string): Promise<ClientWithSecret> {
    const secret = newSecret();
    const row = await this.prisma.client.create({
      data: { id: newClientId(), name, scopes: [...new Set(scopes)], secretHash: await hashSecret(secret) },
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
    const rows = await this.prisma.client.findMany({ orderBy: { createdAt: 'asc' } });
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
    const existing = await this.prisma.client.findUnique({ where: { id: clientId } });
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
    const row = await this.prisma.client.update({ where: { id: clientId }, data });
    await this.clientState.invalidate(clientId);
    await this.audit.record({ actorClientId, action: 'client.updated', target: clientId, details: diff });
    return toView(row);
  }

  async revoke(clientId: string, actorClientId: string): Promise<ClientView> {
    this.refuseBootstrapAdmin(clientId, 'revoked');
    const existing = await this.prisma.client.findUnique({ where: { id: clientId } });
    if (!existing) throw ApiError.notFound(`No client ${clientId}`);
    const row = existing.revokedAt
      ? existing
      : await this.prisma.client.update({ where: { id: clientId }, data: { revokedAt: new Date() } });
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
    const updated = await this.prisma.client.updateMany({
      where: { id: clientId, revokedAt: null },
      // A new generation refuses every token issued before (see AuthGuard), in every process.
      data: { secretHash, rotatedAt: new Date(), secretGen: { increment: 1 } },
    });
    if (updated.count === 0) throw ApiError.notFound(`No active client ${clientId}`);
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
    const row =
      clientId.length <= 64 ? await this.prisma.client.findUnique({ where: { id: clientId } }) : null;
    let ok: boolean;
    try {
      ok = await verifySecretFairly(source, secret, row?.secretHash ?? DUMMY_HASH);
    } catch (err) {
      if (err instanceof QueueFullError)
        throw ApiError.rateLimited('Too many token requests from this address in progress', 1);
      throw err;
    }
    if (!row || !ok || row.revokedAt) return null;
    await this.prisma.client.updateMany({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
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
      const row = await this.prisma.client.findUnique({ where: { id: adminClientId } });
      const current =
        row !== null &&
        !row.revokedAt &&
        row.scopes.includes('admin') &&
        (await verifySecret(adminClientSecret, row.secretHash));
      if (!current) {
        const secretHash = await hashSecret(adminClientSecret);
        await this.prisma.client.upsert({
          where: { id: adminClientId },
          create: {
            id: adminClientId,
            name: 'bootstrap admin (ADMIN_CLIENT_ID)',
            scopes: ['admin'],
            secretHash,
          },
          update: {
            scopes: ['admin'],
            secretHash,
            revokedAt: null,
            rotatedAt: new Date(),
            secretGen: { increment: 1 },
          },
        });
        await this.clientState.invalidate(adminClientId);
      }
      return;
    }
    if (this.config.nodeEnv === 'production')
      throw new Error('ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET are required in production');
    const secret = newSecret();
    const created = await this.prisma.client.createMany({
      data: [
        {
          id: GENERATED_ADMIN_ID,
          name: 'generated development admin',
          scopes: ['admin'],
          secretHash: await hashSecret(secret),
        },
      ],
      skipDuplicates: true,
    });
    if (created.count === 1) {
      // Printed once, on purpose: this is the only copy of the secret.
      this.logger.warn(
        `No ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET set: created admin client "${GENERATED_ADMIN_ID}" with secret ${secret} ` +
          '(shown once; set ADMIN_CLIENT_ID/ADMIN_CLIENT_SECRET to choose your own)',
      );
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
