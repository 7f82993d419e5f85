import type { OidcPayload } from './types.js';

/** The grants a session holds (one per client it signed in to), which ending other sessions keeps. */
export function keptGrantIds(session: OidcPayload | null): Set<string> {
  const authorizations = (session?.authorizations ?? {}) as Record<string, { grantId?: string }>;
  return new Set(Object.values(authorizations).flatMap((authorization) => (authorization.grantId ? [authorization.grantId] : [])));
}
