import type { Scope } from './scopes';

/** The authenticated client of a request (request.user), built from a verified JWT. */
export interface AuthPrincipal {
  clientId: string;
  scopes: Scope[];
  /** When the token expires (epoch ms). */
  expiresAt: number;
}

/** Claims of the access tokens The Eye issues (HS256). */
export interface AccessTokenClaims {
  sub: string;
  scope: string;
  jti: string;
  /** The client's secret generation when the token was issued: a rotation makes it stale. */
  gen?: number;
  iat?: number;
  exp?: number;
}
