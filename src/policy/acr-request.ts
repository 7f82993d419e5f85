import { ACR } from './acr.js';
import type { SessionLevel } from './second-factor.js';

const TWO_FACTOR_LEVELS: ReadonlySet<string> = new Set([ACR.twoFactor, ACR.papeMultiFactor, ACR.phishingResistant]);
const KNOWN_LEVELS: ReadonlySet<string> = new Set([ACR.password, ...TWO_FACTOR_LEVELS]);

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
  const requested = requestedLevels(acrValues, acrClaim);
  return requested.some((value) => TWO_FACTOR_LEVELS.has(value)) && !requested.includes(ACR.password);
}

/**
 * Did the relying party ask for the phishing-resistant level — a security key or passkey — and accept
 * nothing weaker? A request that also names the two-factor or password level does not require a key.
 */
export function relyingPartyAsksForPhishingResistant(acrValues: unknown, acrClaim: AcrClaimRequest | undefined): boolean {
  const known = requestedLevels(acrValues, acrClaim).filter((value) => KNOWN_LEVELS.has(value));
  return known.length > 0 && known.every((value) => value === ACR.phishingResistant);
}

/** The `acr` values a request names: `acr_values`, and an essential `acr` claim request. */
function requestedLevels(acrValues: unknown, acrClaim: AcrClaimRequest | undefined): string[] {
  const requested: string[] = [];
  if (typeof acrValues === 'string') requested.push(...acrValues.split(' ').filter(Boolean));
  if (acrClaim?.essential === true) {
    if (typeof acrClaim.value === 'string') requested.push(acrClaim.value);
    if (Array.isArray(acrClaim.values)) requested.push(...acrClaim.values.filter((value): value is string => typeof value === 'string'));
  }
  return requested;
}

/** Whether a sign-in's `acr` is a two-factor level. */
export function isTwoFactorAcr(acr: unknown): boolean {
  return typeof acr === 'string' && TWO_FACTOR_LEVELS.has(acr);
}

/** How far a session got, by its `acr`. */
export function sessionLevelOf(acr: unknown): SessionLevel {
  if (acr === ACR.phishingResistant) return 'phishing-resistant';
  if (isTwoFactorAcr(acr)) return 'two-factor';
  return acr === ACR.rememberedBrowser ? 'remembered-browser' : 'password';
}

/**
 * The `acr` to report after a second factor: the level the relying party named that the sign-in
 * reached, else the highest it reached. Only a security key or passkey (`byKey`) reaches the
 * phishing-resistant level.
 */
export function reachedTwoFactorAcr(acrValues: unknown, byKey = false): string {
  const requested = typeof acrValues === 'string' ? acrValues.split(' ') : [];
  const reached = (value: string) => TWO_FACTOR_LEVELS.has(value) && (byKey || value !== ACR.phishingResistant);
  return requested.find(reached) ?? (byKey ? ACR.phishingResistant : ACR.twoFactor);
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
