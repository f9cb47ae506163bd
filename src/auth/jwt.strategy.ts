import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ClientStateService } from './client-state.service';
import { JwtKeyService } from './jwt-key.service';
import type { AccessTokenClaims, AuthPrincipal } from './principal';
import { isScope } from './scopes';

/**
 * Bearer JWT: HS256 only (alg "none" and every other algorithm are refused), signature and
 * expiry checked by passport-jwt, then the client must still be active (revocation is immediate).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: JwtKeyService,
    private readonly clientState: ClientStateService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: ['HS256'],
      ignoreExpiration: false,
      secretOrKeyProvider: (
        _req: unknown,
        _raw: unknown,
        done: (err: Error | null, key?: string) => void,
      ) => {
        // passport-jwt hands the key to jsonwebtoken, which accepts a KeyObject (its types say string).
        done(null, keys.verifyKey as unknown as string);
      },
    });
  }

  async validate(claims: AccessTokenClaims): Promise<AuthPrincipal | false> {
    if (typeof claims.sub !== 'string' || typeof claims.scope !== 'string') return false;
    if (!(await this.clientState.isActive(claims.sub))) return false;
    return {
      clientId: claims.sub,
      scopes: claims.scope.split(' ').filter(isScope),
      expiresAt: (claims.exp ?? 0) * 1000,
    };
  }
}
