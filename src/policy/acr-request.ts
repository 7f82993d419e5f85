import { ACR } from './acr.js';
import type { SessionLevel } from './second-factor.js';

const TWO_FACTOR_LEVELS: ReadonlySet<string> = new Set([ACR.twoFactor, ACR.papeMultiFactor]);

export interface AcrClaimRequest {
  readonly essential?: boolean;
  readonly value?: unknown;
  readonly values?: unknown;
}

/**
 * Did the relying party ask for two-factor sign-in? Through `acr_values`, or an essential `acr`
 * claim request in the `claims` parameter, naming a two-factor level. A request that also accepts
 * the password level does not require the second factor; values Twofold does not know are ignored.
 */
export function relyingPartyAsksForSecondFactor(acrValues: unknown, acrClaim: AcrClaimRequest | undefined): boolean {
  const requested: string[] = [];
  if (typeof acrValues === 'string') requested.push(...acrValues.split(' ').filter(Boolean));
  if (acrClaim?.essential === true) {
    if (typeof acrClaim.value === 'string') requested.push(acrClaim.value);
    if (Array.isArray(acrClaim.values)) requested.push(...acrClaim.values.filter((value): value is string => typeof value === 'string'));
  }
  return requested.some((value) => TWO_FACTOR_LEVELS.has(value)) && !requested.includes(ACR.password);
}

/** Whether a sign-in's `acr` is a two-factor level. */
export function isTwoFactorAcr(acr: unknown): boolean {
  return typeof acr === 'string' && TWO_FACTOR_LEVELS.has(acr);
}

/** How far a session got, by its `acr`. */
export function sessionLevelOf(acr: unknown): SessionLevel {
  if (isTwoFactorAcr(acr)) return 'two-factor';
  return acr === ACR.rememberedBrowser ? 'remembered-browser' : 'password';
}

/** The `acr` to report after a second factor: the two-factor level the relying party named, else ours. */
export function reachedTwoFactorAcr(acrValues: unknown): string {
  const requested = typeof acrValues === 'string' ? acrValues.split(' ') : [];
  return requested.find((value) => TWO_FACTOR_LEVELS.has(value)) ?? ACR.twoFactor;
}

/** The `acr` claim request inside an authorization request's `claims` parameter (JSON text), if any. */
export function acrClaimOf(claimsParameter: unknown): AcrClaimRequest | undefined {
  if (typeof claimsParameter !== 'string') return undefined;
  try {
    const claims = JSON.parse(claimsParameter) as { id_token?: { acr?: AcrClaimRequest } };
    return typeof claims?.id_token?.acr === 'object' ? claims.id_token.acr : undefined;
  } catch {
    return undefined;
  }
}
