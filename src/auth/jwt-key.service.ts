import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { type KeyObject, createSecretKey, randomBytes } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ClientsRepository } from './clients.repository';

/**
 * The HS256 key: JWT_SECRET, or (development/test only; production refuses to start without it)
 * a key generated once and stored in the `settings` table, so that every process of the
 * deployment signs and verifies with the same key.
 */
@Injectable()
export class JwtKeyService implements OnModuleInit {
  private readonly logger = new Logger(JwtKeyService.name);
  private secret: string | undefined;
  private keyObject: KeyObject | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: ClientsRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.jwtSecret) {
      this.setSecret(this.config.jwtSecret);
      return;
    }
    const generated = randomBytes(48).toString('base64url');
    const stored = await this.clients.jwtSecret(generated);
    if (stored === generated)
      this.logger.warn('JWT_SECRET is not set: generated a signing key and stored it in the database');
    this.setSecret(stored);
  }

  private setSecret(secret: string): void {
    this.secret = secret;
    this.keyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /**
   * The verification key as a KeyObject, built once. Given a string, jsonwebtoken tries
   * createPublicKey() on it for every token (and catches the failure), which dominated the CPU of
   * an authenticated request.
   */
  get verifyKey(): KeyObject {
    if (!this.keyObject) throw new Error('JWT key requested before initialisation');
    return this.keyObject;
  }

  get key(): string {
    if (!this.secret) throw new Error('JWT key requested before initialisation');
    return this.secret;
  }
}
