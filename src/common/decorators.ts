import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Scope } from '../auth/scopes';
import type { AuthPrincipal } from '../auth/principal';

export const IS_PUBLIC = 'the-eye:public';
export const REQUIRED_SCOPES = 'the-eye:scopes';

/** Route needs no token (token endpoint, health, docs). Everything else is denied by default. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export const RAW_PAYLOAD = 'the-eye:raw-payload';

/**
 * The route's body is event payload: strings PostgreSQL cannot store (NUL, unpaired surrogates)
 * are the sender's data, quarantined by the worker, not refused by the global string check.
 */
export const RawPayload = (): MethodDecorator & ClassDecorator => SetMetadata(RAW_PAYLOAD, true);

export const PUBLIC_WHEN = 'the-eye:public-when';

/** Route needs no token when this boolean of the configuration is true (e.g. METRICS_PUBLIC). */
export const PublicWhen = (flag: 'metricsPublic'): MethodDecorator & ClassDecorator =>
  SetMetadata(PUBLIC_WHEN, flag);

/** Route needs a token carrying one of these scopes (`admin` always passes). */
export const Scopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_SCOPES, scopes);

export function principalOf(_data: unknown, ctx: ExecutionContext): AuthPrincipal {
  return ctx.switchToHttp().getRequest<{ user: AuthPrincipal }>().user;
}

/** The authenticated client of the request. */
export const Principal = createParamDecorator(principalOf);
