import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ApiError } from '../common/api-error';
import { ClientsService } from './clients.service';
import { CredentialThrottle } from './credential-throttle.service';
import { JwtKeyService } from './jwt-key.service';
import type { AccessTokenClaims } from './principal';
import { type Scope, isScope } from './scopes';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  /** Optional narrowing of the client's scopes (space-separated, RFC 6749 §3.3). */
  scope?: string;
}

const invalidClient = (): ApiError =>
  new ApiError(401, 'invalid_client', 'Unknown client, wrong secret or revoked client', undefined, {
    'WWW-Authenticate': 'Basic realm="the-eye"',
  });

/**
 * OAuth 2.0 client-credentials grant (RFC 6749 §4.4): credentials as JSON, as form fields or as
 * HTTP Basic; answers an HS256 access token.
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: ClientsService,
    private readonly jwt: JwtService,
    private readonly keys: JwtKeyService,
    private readonly throttle: CredentialThrottle,
  ) {}

  /** Reads the credentials from whichever of the three places carries them. */
  credentialsFrom(body: unknown, authorization: string | undefined): ClientCredentials {
    const fields =
      body !== null && typeof body === 'object' && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : {};
    const grantType = fields.grant_type;
    if (grantType !== undefined && grantType !== 'client_credentials') {
      throw new ApiError(400, 'bad_request', 'Only grant_type=client_credentials is supported', [
        { path: '/grant_type', message: 'must be "client_credentials"' },
      ]);
    }
    const scope = typeof fields.scope === 'string' ? fields.scope : undefined;
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw invalidClient();
      // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
      const dec = (s: string): string => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      return { clientId: dec(decoded.slice(0, colon)), clientSecret: dec(decoded.slice(colon + 1)), scope };
    }
    const { client_id: clientId, client_secret: clientSecret } = fields;
    const errors = [];
    if (typeof clientId !== 'string' || clientId === '')
      errors.push({ path: '/client_id', message: 'is required' });
    if (typeof clientSecret !== 'string' || clientSecret === '')
      errors.push({ path: '/client_secret', message: 'is required' });
    if (errors.length)
      throw ApiError.validation(
        errors,
        'client_id and client_secret are required (JSON, form fields or HTTP Basic)',
      );
    return { clientId: clientId as string, clientSecret: clientSecret as string, scope };
  }

  /**
   * `source` is the caller's address: the attempt is counted per (client id, source) and per
   * source before any hashing, and either over its limit is refused (429). Only failures stay
   * counted.
   */
  async issue(credentials: ClientCredentials, source: string): Promise<TokenResponse> {
    const { clientId, clientSecret } = credentials;
    await this.throttle.attempt(clientId, source);
    let client;
    try {
      client = await this.clients.authenticate(clientId, clientSecret, source);
    } catch (err) {
      // Not tried (hashing line full) or not answered: not a failed secret.
      await this.throttle.uncount(clientId, source);
      throw err;
    }
    if (!client) throw invalidClient();
    await this.throttle.uncount(clientId, source);
    const scopes = this.narrow(client.scopes, credentials.scope);
    const claims: AccessTokenClaims = {
      sub: client.clientId,
      scope: scopes.join(' '),
      jti: randomUUID(),
      gen: client.secretGeneration,
    };
    const access_token = await this.jwt.signAsync(claims, {
      secret: this.keys.key,
      algorithm: 'HS256',
      expiresIn: this.config.jwtExpiresInSeconds,
    });
    return {
      access_token,
      token_type: 'Bearer',
      expires_in: this.config.jwtExpiresInSeconds,
      scope: claims.scope,
    };
  }

  private narrow(granted: Scope[], requested: string | undefined): Scope[] {
    if (requested === undefined || requested.trim() === '') return granted;
    const wanted = requested.trim().split(/\s+/);
    const refused = wanted.filter((s) => !isScope(s) || !(granted.includes(s) || granted.includes('admin')));
    if (refused.length) {
      throw new ApiError(400, 'bad_request', `Scopes not granted to this client: ${refused.join(' ')}`, [
        { path: '/scope', message: 'invalid_scope' },
      ]);
    }
    return [...new Set(wanted as Scope[])];
  }
}
