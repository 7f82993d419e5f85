/**
 * The scopes that put organizations in tokens (docs/rules.md, "Organizations in tokens"):
 * `organizations` asks for every membership, `organization:<slug>` for a sign-in for one organization.
 */
export const ORGANIZATIONS_SCOPE = 'organizations';
const ORGANIZATION_PREFIX = 'organization:';

/** The organizations a scope (a space-separated string, or its values) asks to sign in for, by slug. */
export function requestedOrganizations(scope: string | Iterable<string> | undefined): string[] {
  const values = typeof scope === 'string' ? scope.split(' ') : [...(scope ?? [])];
  return [...new Set(values.filter((value) => value.startsWith(ORGANIZATION_PREFIX)).map((value) => value.slice(ORGANIZATION_PREFIX.length)))];
}

/** What a request for one organization's sign-in gets, by the person's memberships. */
export type OrganizationSignIn =
  /** No organization asked for, or the person is a member of the one asked for. */
  | { readonly kind: 'allowed'; readonly slug: string | null }
  /** Not an accepted member (or no such organization). */
  | { readonly kind: 'not-a-member'; readonly slug: string }
  /** More than one organization asked for at once: a sign-in is for one. */
  | { readonly kind: 'several'; readonly slugs: readonly string[] };

export function organizationSignIn(requested: readonly string[], memberOf: ReadonlySet<string>): OrganizationSignIn {
  if (requested.length > 1) return { kind: 'several', slugs: requested };
  const [slug] = requested;
  if (slug === undefined) return { kind: 'allowed', slug: null };
  return memberOf.has(slug) ? { kind: 'allowed', slug } : { kind: 'not-a-member', slug };
}
