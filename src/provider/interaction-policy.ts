import { interactionPolicy as oidcPolicy } from 'oidc-provider';

/**
 * The prompts a sign-in goes through, in order: `login` (email and password) and `consent`
 * (skipped for first-party clients). Each is re-checked at every authorization request.
 */
export function interactionPolicy(): ReturnType<typeof oidcPolicy.base> {
  return oidcPolicy.base();
}
