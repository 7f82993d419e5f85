import { isTwoFactorAcr, relyingPartyAsksForSecondFactor, type AcrClaimRequest } from '../policy/acr-request.js';
import { decideSecondFactor, nextSecondFactorStep, type SecondFactorStep } from '../policy/second-factor.js';
import type { User } from '../store/types.js';
import type { SecondFactorService } from './second-factor-service.js';

export interface AuthorizationRequestFacts {
  readonly acrValues?: unknown;
  readonly acrClaim?: AcrClaimRequest | undefined;
  /** The request is for the admin pages or the admin API. */
  readonly adminArea: boolean;
}

/**
 * The rule applied to a user, a request and the level the session reached (its `acr`): what the
 * sign-in must do next. Sign-in pages, the built-in apps and the token endpoint all ask here.
 */
export async function secondFactorStepFor(
  secondFactors: SecondFactorService,
  user: User,
  request: AuthorizationRequestFacts,
  sessionAcr: unknown,
): Promise<SecondFactorStep> {
  const facts = await secondFactors.facts(user);
  const decision = decideSecondFactor({
    ...facts,
    relyingPartyAsks: relyingPartyAsksForSecondFactor(request.acrValues, request.acrClaim),
    adminArea: request.adminArea,
  });
  return nextSecondFactorStep(decision, facts.enrolled, isTwoFactorAcr(sessionAcr));
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
