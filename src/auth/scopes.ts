export const SCOPES = ['events:write', 'events:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** What each scope lets a client do (shown in Swagger UI's Authorize dialog). */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'events:write': 'Send events (applications)',
  'events:read': 'Query events, sessions, stats and the quarantine (analysts)',
  admin: 'Everything, including clients and schemas',
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** `admin` carries every other scope. */
export function hasAnyScope(granted: readonly string[], required: readonly Scope[]): boolean {
  if (granted.includes('admin')) return true;
  return required.some((s) => granted.includes(s));
}
