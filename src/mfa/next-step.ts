import { relyingPartyAsksForSecondFactor, type AcrClaimRequest } from '../policy/acr-request.js';
import { decideSecondFactor, hasSecondFactor, nextSecondFactorStep, type SecondFactorStep } from '../policy/second-factor.js';
import type { User } from '../store/types.js';
import type { SecondFactorService } from './second-factor-service.js';

/** The rule applied to a user and an authorization request: what the sign-in must do next. */
export async function secondFactorStepFor(
  secondFactors: SecondFactorService,
  user: User,
  request: { acrValues: unknown; acrClaim: AcrClaimRequest | undefined },
  sessionAmr: readonly string[] | undefined,
): Promise<SecondFactorStep> {
  const facts = await secondFactors.facts(user);
  const decision = decideSecondFactor({ ...facts, relyingPartyAsks: relyingPartyAsksForSecondFactor(request.acrValues, request.acrClaim) });
  return nextSecondFactorStep(decision, facts.enrolled, hasSecondFactor(sessionAmr));
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
