import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

/** A write key as stored (never the key itself: its SHA-256). */
export interface WriteKeyRecord {
  keyId: string;
  prefix: string | null;
  clientId: string;
  /** The client's secret generation when the key was issued (not shown in listings). */
  secretGen: number;
  allowedOrigins: string[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const PUBLIC_FIELDS = {
  keyId: true,
  prefix: true,
  clientId: true,
  secretGen: true,
  allowedOrigins: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

/** The `write_keys` table through Prisma. */
@Injectable()
export class WriteKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(key: {
    keyHash: string;
    keyId: string;
    prefix: string;
    clientId: string;
    secretGen: number;
    allowedOrigins: string[];
  }): Promise<WriteKeyRecord> {
    return this.prisma.writeKey.create({ data: key, select: PUBLIC_FIELDS });
  }

  /** A client's keys, revoked ones included, oldest first. */
  list(clientId: string): Promise<WriteKeyRecord[]> {
    return this.prisma.writeKey.findMany({
      where: { clientId },
      select: PUBLIC_FIELDS,
      orderBy: [{ createdAt: 'asc' }, { keyId: 'asc' }],
    });
  }

  find(clientId: string, keyId: string): Promise<WriteKeyRecord | null> {
    return this.prisma.writeKey.findFirst({ where: { clientId, keyId }, select: PUBLIC_FIELDS });
  }

  /** The key with this hash, or null. */
  byHash(keyHash: string): Promise<WriteKeyRecord | null> {
    return this.prisma.writeKey.findUnique({ where: { keyHash }, select: PUBLIC_FIELDS });
  }

  /** Revokes an active key; null when the client has no such key, the key as it is when already revoked. */
  async revoke(clientId: string, keyId: string): Promise<WriteKeyRecord | null> {
    await this.prisma.writeKey.updateMany({
      where: { clientId, keyId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return this.find(clientId, keyId);
  }

  async setAllowedOrigins(
    clientId: string,
    keyId: string,
    allowedOrigins: string[],
  ): Promise<WriteKeyRecord | null> {
    const updated = await this.prisma.writeKey.updateMany({
      where: { clientId, keyId },
      data: { allowedOrigins },
    });
    return updated.count === 0 ? null : this.find(clientId, keyId);
  }

  async markUsed(keyIds: string[]): Promise<void> {
    await this.prisma.writeKey.updateMany({
      where: { keyId: { in: keyIds } },
      data: { lastUsedAt: new Date() },
    });
  }

  /**
   * Whether some active key of an active client may be used from `origin` (a key without
   * allowed_origins may be used from any): what a CORS preflight, which carries no key, can know.
   */
  async anyKeyAllows(origin: string): Promise<boolean> {
    // Few keys per deployment: a scan of write_keys joined to clients by primary key.
    const rows = await this.prisma.$queryRaw<{ allowed: boolean }[]>`
      SELECT EXISTS (
        SELECT 1 FROM write_keys k JOIN clients c ON c.id = k.client_id
         WHERE k.revoked_at IS NULL AND c.revoked_at IS NULL
           AND (coalesce(cardinality(k.allowed_origins), 0) = 0 OR ${origin} = ANY (k.allowed_origins))
      ) AS allowed`;
    return rows[0]?.allowed === true;
  }
}
