import {
  SetMetadata,
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';
import { BEARER_SCHEME, OAUTH2_SCHEME } from '../common/swagger';
import type { AuthPrincipal } from './principal';
import type { Scope } from './scopes';

/**
 * The OpenAPI security requirements of a route that needs one of `scopes` (alternatives: any one
 * of them through the OAuth2 flow, or a pasted bearer token). Used by @Scopes(); a route documented
 * by hand uses it too (`security: scopeSecurity(['events:write'])`).
 */
export function scopeSecurity(scopes: readonly Scope[]): Record<string, string[]>[] {
  return [...scopes.map((scope) => ({ [OAUTH2_SCHEME]: [scope] })), { [BEARER_SCHEME]: [] }];
}

export const IS_PUBLIC = 'the-eye:public';
export const REQUIRED_SCOPES = 'the-eye:scopes';

/** Route needs no token (token endpoint, health, docs). Everything else is denied by default. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);

export const PUBLIC_WHEN = 'the-eye:public-when';

/** Route needs no token when this boolean of the configuration is true (e.g. METRICS_PUBLIC). */
export const PublicWhen = (flag: 'metricsPublic'): MethodDecorator & ClassDecorator =>
  SetMetadata(PUBLIC_WHEN, flag);

/**
 * Route needs a token carrying one of these scopes (`admin` always passes). Also documents it in
 * OpenAPI: the OAuth2 client-credentials and bearer security requirements of the operation (and,
 * through `buildOpenApi`, a "Scope:" line in its description), so a route cannot need a scope
 * without saying which.
 *
 * The guard reads the method's scopes before the controller's (method overrides class); the docs
 * must say the same, and Swagger would concatenate class- and method-level security. So on a
 * class this documents each route method that has no @Scopes()/@Public() of its own (class
 * decorators run after the method decorators, so those are already known).
 */
export function Scopes(...scopes: Scope[]): MethodDecorator & ClassDecorator {
  const metadata = SetMetadata(REQUIRED_SCOPES, scopes);
  // A fresh ApiSecurity per method: one instance accumulates the requirements of every target.
  const security = (): MethodDecorator[] =>
    scopeSecurity(scopes).map((requirement) => ApiSecurity(requirement));
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      applyDecorators(metadata, ...security())(target, key, descriptor);
      return descriptor;
    }
    metadata(target as Type<unknown>);
    const proto = (target as Type<unknown>).prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, name);
      const fn = method?.value as object | undefined;
      // Non-route methods may get the metadata too: Swagger only reads it from routes.
      if (name === 'constructor' || typeof fn !== 'function') continue;
      if (Reflect.hasMetadata(REQUIRED_SCOPES, fn) || Reflect.hasMetadata(IS_PUBLIC, fn)) continue;
      for (const decorate of security()) decorate(proto, name, method!);
    }
    return target;
  }) as MethodDecorator & ClassDecorator;
}

export function principalOf(_data: unknown, ctx: ExecutionContext): AuthPrincipal {
  return ctx.switchToHttp().getRequest<{ user: AuthPrincipal }>().user;
}

/** The authenticated client of the request. */
export const Principal = createParamDecorator(principalOf);
