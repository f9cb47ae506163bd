import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '../common/api-error';
import { IS_PUBLIC, REQUIRED_SCOPES } from '../common/decorators';
import type { AuthPrincipal } from './principal';
import { type Scope, hasAnyScope } from './scopes';

/**
 * Global guard, deny by default: every route needs a valid bearer token unless marked
 * @Public(), and a route that declares no @Scopes() is refused to everyone but admins.
 */
@Injectable()
export class ScopedJwtGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    await super.canActivate(context);
    const principal = context.switchToHttp().getRequest<{ user: AuthPrincipal }>().user;
    const required = this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, targets) ?? [
      'admin',
    ];
    if (!hasAnyScope(principal.scopes, required)) {
      throw new ApiError(403, 'forbidden', `This route needs one of the scopes: ${required.join(', ')}`);
    }
    return true;
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
