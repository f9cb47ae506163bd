import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { AuthPrincipal } from '../auth/principal';
import { hasAnyScope } from '../auth/scopes';
import { ApiError } from '../common/api-error';
import { APP_CONFIG, type AppConfig } from '../config/config';

/**
 * GET /metrics is open when METRICS_PUBLIC=true (a scraper inside a private network), otherwise
 * it needs an admin token. The route is @Public() so the global guard lets it through; this
 * guard then applies the same token and scope rules (401 / 403) unless the config opens it.
 */
@Injectable()
export class MetricsAccessGuard extends AuthGuard('jwt') {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.config.metricsPublic) return true;
    await super.canActivate(context);
    const principal = context.switchToHttp().getRequest<{ user: AuthPrincipal }>().user;
    if (!hasAnyScope(principal.scopes, ['admin'])) {
      throw new ApiError(403, 'forbidden', 'This route needs one of the scopes: admin');
    }
    return true;
  }

  override handleRequest<T = AuthPrincipal>(err: unknown, user: T | false): T {
    // An exception inside validation (database down…) is not a bad token: let the filter map it.
    if (err instanceof Error) throw err;
    if (err) throw new Error('token validation failed');
    if (!user) {
      throw new ApiError(401, 'unauthorized', 'A valid bearer token is required', undefined, {
        'WWW-Authenticate': 'Bearer realm="the-eye"',
      });
    }
    return user;
  }
}
