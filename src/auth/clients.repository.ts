import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

/** A client as stored (Prisma's camelCase fields of the `clients` table). */
export interface ClientRecord {
  id: string;
  name: string;
  scopes: string[];
  secretHash: string;
  secretGen: number;
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  rateLimit: number | null;
}

export interface ClientChangeSet {
  name?: string;
  scopes?: string[];
  rateLimit?: number | null;
}

/**
 * The auth tables through Prisma: `clients` (write keys: WriteKeysRepository) and the `settings` row of the generated
 * JWT key. Also read by the ingestion rate limiter (per-client limits).
 */
@Injectable()
export class ClientsRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(client: { id: string; name: string; scopes: string[]; secretHash: string }): Promise<ClientRecord> {
    return this.prisma.client.create({ data: client });
  }

  /** Inserts the client unless its id exists; true when it was inserted. */
  async createIfAbsent(client: {
    id: string;
    name: string;
    scopes: string[];
    secretHash: string;
  }): Promise<boolean> {
    const created = await this.prisma.client.createMany({ data: [client], skipDuplicates: true });
    return created.count === 1;
  }

  list(): Promise<ClientRecord[]> {
    return this.prisma.client.findMany({ orderBy: { createdAt: 'asc' } });
  }

  find(id: string): Promise<ClientRecord | null> {
    return this.prisma.client.findUnique({ where: { id } });
  }

  update(id: string, changes: ClientChangeSet): Promise<ClientRecord> {
    return this.prisma.client.update({ where: { id }, data: changes });
  }

  revoke(id: string): Promise<ClientRecord> {
    return this.prisma.client.update({ where: { id }, data: { revokedAt: new Date() } });
  }

  /**
   * A new secret for an active client, with a new generation (refusing every token issued
   * before); false when there is no such active client.
   */
  async rotateSecret(id: string, secretHash: string): Promise<boolean> {
    const updated = await this.prisma.client.updateMany({
      where: { id, revokedAt: null },
      data: { secretHash, rotatedAt: new Date(), secretGen: { increment: 1 } },
    });
    return updated.count > 0;
  }

  /** The bootstrap admin: created, or restored as an active admin with this secret (new generation). */
  async upsertAdmin(id: string, name: string, secretHash: string): Promise<void> {
    await this.prisma.client.upsert({
      where: { id },
      create: { id, name, scopes: ['admin'], secretHash },
      update: {
        scopes: ['admin'],
        secretHash,
        revokedAt: null,
        rotatedAt: new Date(),
        secretGen: { increment: 1 },
      },
    });
  }

  async markUsed(ids: string[]): Promise<void> {
    await this.prisma.client.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: new Date() } });
  }

  /** What the guard needs of a client on every request: whether it is revoked, its secret's generation, its scopes. */
  state(id: string): Promise<{ revokedAt: Date | null; secretGen: number; scopes: string[] } | null> {
    return this.prisma.client.findUnique({
      where: { id },
      select: { revokedAt: true, secretGen: true, scopes: true },
    });
  }

  /** Per-client rate limits of the active clients that have one. */
  async rateLimits(): Promise<Map<string, number>> {
    const rows = await this.prisma.client.findMany({
      where: { rateLimit: { not: null }, revokedAt: null },
      select: { id: true, rateLimit: true },
    });
    return new Map(rows.map((r) => [r.id, r.rateLimit as number]));
  }

  /** One client's rate limit; null when it has none (or does not exist). */
  async rateLimit(id: string): Promise<number | null> {
    const row = await this.prisma.client.findUnique({ where: { id }, select: { rateLimit: true } });
    return row?.rateLimit ?? null;
  }

  /** The stored JWT key: `candidate` stored when there is none yet (first process wins); the key in force. */
  async jwtSecret(candidate: string): Promise<string> {
    await this.prisma.setting.createMany({
      data: [{ key: 'jwt_secret', value: candidate }],
      skipDuplicates: true,
    });
    const row = await this.prisma.setting.findUniqueOrThrow({ where: { key: 'jwt_secret' } });
    return row.value;
  }
}
