export const SCOPES = ['events:write', 'events:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** `admin` carries every other scope. */
export function hasAnyScope(granted: readonly string[], required: readonly Scope[]): boolean {
  if (granted.includes('admin')) return true;
  return required.some((s) => granted.includes(s));
}
