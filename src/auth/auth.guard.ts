import { type ExecutionContext, Inject, Injectable, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '../common/api-error';
import { IS_PUBLIC, PUBLIC_WHEN, REQUIRED_SCOPES } from '../common/decorators';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ClientStateService } from './client-state.service';
import type { AuthPrincipal } from './principal';
import { type Scope, hasAnyScope } from './scopes';

const MAX_VERIFIED_TOKENS = 10_000;

type RouteHandler = (...args: never[]) => unknown;

/** What a route asks of its caller, read from its decorators (and the configuration) once. */
export interface RouteAccess {
  /** No token needed (@Public(), or @PublicWhen(flag) with that flag on). */
  public: boolean;
  /** One of these scopes is needed; `admin` always passes. */
  scopes: Scope[];
}

/** The request as the guard sees it; `user` is set once the bearer token is accepted. */
export interface AuthRequest {
  user?: AuthPrincipal;
  headers: Record<string, unknown>;
}

/**
 * Global guard, deny by default: every route needs a valid bearer token unless marked
 * @Public() (or @PublicWhen(flag) with that configuration flag on), and a route that declares no @Scopes() is refused to everyone but admins.
 * Routes served by a direct handler (common/direct-route.ts) call `routeAccess` once and
 * `authorize` per request: the same checks without Nest's per-request pipeline.
 */
@Injectable()
export class ScopedJwtGuard extends AuthGuard('jwt') {
  /**
   * Tokens whose signature and claims were verified, by their exact text, until they expire:
   * a client sends the same token thousands of times, and verifying it each time (passport +
   * jsonwebtoken) was the largest per-request cost left in the issue 5 profile. The client's
   * state (revocation) is still checked on every request.
   */
  private readonly verified = new Map<string, AuthPrincipal>();

  constructor(
    private readonly reflector: Reflector,
    private readonly clientState: ClientStateService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.routeAccess(context.getHandler() as RouteHandler, context.getClass());
    if (access.public) return true;
    await this.authorize(context.switchToHttp().getRequest<AuthRequest>(), access, () => context);
    return true;
  }

  routeAccess(handler: RouteHandler, controller: Type<unknown>): RouteAccess {
    const targets = [handler, controller];
    const publicWhen = this.reflector.getAllAndOverride<'metricsPublic' | undefined>(PUBLIC_WHEN, targets);
    return {
      public:
        this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true ||
        (publicWhen !== undefined && this.config[publicWhen]),
      scopes: this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? ['admin'],
    };
  }

  /**
   * Sets request.user from the bearer token or throws 401/403. `context` is only built when the
   * token is not in the cache (passport needs it).
   */
  async authorize(request: AuthRequest, access: RouteAccess, context: () => ExecutionContext): Promise<void> {
    const auth = request.headers.authorization;
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const known = token === undefined ? undefined : this.verified.get(token);
    if (known && known.expiresAt > Date.now() && (await this.clientState.isActive(known.clientId))) {
      request.user = known;
    } else {
      if (known) this.verified.delete(token as string);
      await super.canActivate(context());
      if (token !== undefined && request.user) this.remember(token, request.user);
    }
    const principal = request.user as AuthPrincipal;
    if (!hasAnyScope(principal.scopes, access.scopes)) {
      throw new ApiError(403, 'forbidden', `This route needs one of the scopes: ${access.scopes.join(', ')}`);
    }
  }

  private remember(token: string, principal: AuthPrincipal): void {
    if (this.verified.size >= MAX_VERIFIED_TOKENS) {
      // Oldest first (Map keeps insertion order).
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, principal);
  }

  override handleRequest<T = AuthPrincipal>(err: unknown, user: T | false): T {
    // An exception inside validation (database down…) is not a bad token: let the filter map it.
    if (err) throw err instanceof Error ? err : new Error('authentication failed');
    if (!user) {
      throw new ApiError(401, 'unauthorized', 'A valid bearer token is required', undefined, {
        'WWW-Authenticate': 'Bearer realm="the-eye"',
      });
    }
    return user;
  }
}
