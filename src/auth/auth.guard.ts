import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ApiError } from '../common/api-error';
import { IS_PUBLIC, PUBLIC_WHEN, REQUIRED_SCOPES } from './auth.decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ClientStateService } from './client-state.service';
import { JwtKeyService } from './jwt-key.service';
import type { AccessTokenClaims, AuthPrincipal } from './principal';
import { type Scope, hasAnyScope, isScope } from './scopes';

const MAX_VERIFIED_TOKENS = 10_000;

/** What a route asks of its caller, read from its decorators (and the configuration) once. */
interface RouteAccess {
  /** No token needed (@Public(), or @PublicWhen(flag) with that flag on). */
  public: boolean;
  /** One of these scopes is needed; `admin` always passes. */
  scopes: readonly Scope[];
}

/** A token whose signature and claims were verified, with the client's secret generation it carries. */
interface VerifiedToken {
  principal: AuthPrincipal;
  secretGeneration: number;
}

const unauthorized = (): ApiError =>
  new ApiError(401, 'unauthorized', 'A valid bearer token is required', undefined, {
    'WWW-Authenticate': 'Bearer realm="the-eye"',
  });

/**
 * The principal with only the scopes its client still holds (PATCH may have removed some since
 * the token was issued): a token's `admin` stands for everything, hence for whatever the client
 * has now; a scope the client lost is dropped; a client that is now `admin` keeps what the token
 * names (a narrowed token stays narrow). Unchanged (the same object) in the usual case.
 */
export function withinClientScopes(principal: AuthPrincipal, current: readonly Scope[]): AuthPrincipal {
  if (current.includes('admin')) return principal;
  const scopes = principal.scopes.includes('admin')
    ? [...current]
    : principal.scopes.filter((s) => current.includes(s));
  if (scopes.length === principal.scopes.length && scopes.every((s, i) => s === principal.scopes[i])) {
    return principal;
  }
  return { ...principal, scopes };
}

/**
 * The one authentication path, global and deny by default: every route needs a valid bearer
 * token unless marked @Public() (or @PublicWhen(flag) with that configuration flag on), and a
 * route that declares no @Scopes() is refused to everyone but admins. Routes served outside
 * Nest's pipeline (the ingestion POSTs) call `authenticate` themselves.
 *
 * A token is an HS256 JWT (every other algorithm, `none` included, is refused). Its signature
 * and claims are verified once per token text and remembered until it expires: a client sends
 * the same token thousands of times, and verifying it each time was the largest per-request
 * cost of an authenticated event. What can change while a token is valid is checked on every
 * request from ClientStateService's in-process cache (no round trip): the client is not revoked,
 * its secret was not rotated since the token was issued (the `gen` claim), and the token's scopes
 * are cut to those the client holds now.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly routes = new WeakMap<object, RouteAccess>();
  private readonly jwt: JwtService;

  constructor(
    private readonly reflector: Reflector,
    private readonly clientState: ClientStateService,
    keys: JwtKeyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // The key as a KeyObject (see JwtKeyService.verifyKey); HS256 only.
    this.jwt = new JwtService({
      secretOrKeyProvider: () => keys.verifyKey,
      verifyOptions: { algorithms: ['HS256'] },
    });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.routeAccess(context);
    if (access.public) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown>; user?: AuthPrincipal }>();
    request.user = await this.authenticate(request.headers.authorization, access.scopes);
    return true;
  }

  /**
   * The client behind an `Authorization: Bearer …` header, if it holds one of `scopes` (`admin`
   * holds all); otherwise throws 401 (with WWW-Authenticate) or 403.
   */
  async authenticate(authorization: unknown, scopes: readonly Scope[]): Promise<AuthPrincipal> {
    const token =
      typeof authorization === 'string' && authorization.startsWith('Bearer ')
        ? authorization.slice(7)
        : undefined;
    if (token === undefined) throw unauthorized();
    let known = this.verified.get(token);
    if (known === undefined || known.principal.expiresAt <= Date.now()) {
      if (known !== undefined) this.verified.delete(token);
      known = this.verify(token);
      this.remember(token, known);
    }
    const state = await this.clientState.state(known.principal.clientId);
    if (!state.active || state.secretGeneration !== known.secretGeneration) throw unauthorized();
    const principal = withinClientScopes(known.principal, state.scopes);
    if (!hasAnyScope(principal.scopes, scopes)) {
      throw new ApiError(403, 'forbidden', `This route needs one of the scopes: ${scopes.join(', ')}`);
    }
    return principal;
  }

  private verify(token: string): VerifiedToken {
    let claims: Partial<AccessTokenClaims>;
    try {
      claims = this.jwt.verify<Partial<AccessTokenClaims>>(token);
    } catch {
      // Bad signature, other algorithm, expired, not yet valid, malformed: all the same to the caller.
      throw unauthorized();
    }
    const { sub, scope, exp, gen } = claims;
    if (typeof sub !== 'string' || typeof scope !== 'string' || typeof exp !== 'number') throw unauthorized();
    // Tokens issued before generations existed carry none: they stand for a never-rotated secret.
    if (gen !== undefined && !Number.isSafeInteger(gen)) throw unauthorized();
    return {
      principal: { clientId: sub, scopes: scope.split(' ').filter(isScope), expiresAt: exp * 1000 },
      secretGeneration: gen ?? 0,
    };
  }

  private remember(token: string, verified: VerifiedToken): void {
    if (this.verified.size >= MAX_VERIFIED_TOKENS) {
      // Oldest first (Map keeps insertion order).
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, verified);
  }

  private routeAccess(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    const cached = this.routes.get(handler);
    if (cached) return cached;
    const targets = [handler, context.getClass()];
    const publicWhen = this.reflector.getAllAndOverride<'metricsPublic' | undefined>(PUBLIC_WHEN, targets);
    const access: RouteAccess = {
      public:
        this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true ||
        (publicWhen !== undefined && this.config[publicWhen]),
      scopes: this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? ['admin'],
    };
    this.routes.set(handler, access);
    return access;
  }
}
