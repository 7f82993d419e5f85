import type { Context } from 'koa';
import { errors, type InteractionResults } from 'oidc-provider';
import { UserError } from '../src/errors.js';
import type { AuthorizationRequestFacts } from '../src/application/second-factors.js';
import { acrClaimOf } from '../src/policy/acr-request.js';
import { isAdminClient } from '../src/self-service/built-in-clients.js';
import type { InteractionDependencies } from './dependencies.js';

export type InteractionDetails = Awaited<ReturnType<InteractionDependencies['provider']['interactionDetails']>>;

export const EXPIRED_SENTENCE = 'This sign-in has expired or was opened in another browser. Go back to the application and sign in again.';

/**
 * Loads the interaction for this request, checking that the URL's uid is the one in the browser's
 * interaction cookie and, when `prompt` is given, that the sign-in is at that step. A missing or
 * expired interaction is a page with a sentence, not a 500.
 */
export async function loadInteraction({ provider }: InteractionDependencies, ctx: Context, prompt?: string): Promise<InteractionDetails> {
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    if (error instanceof errors.SessionNotFound) throw new UserError(EXPIRED_SENTENCE, 400);
    throw error;
  }
  if (details.uid !== ctx.params.uid) throw new UserError(EXPIRED_SENTENCE, 400);
  if (prompt !== undefined && details.prompt.name !== prompt) {
    throw new UserError('This step of the sign-in is already done. Go back to the application and sign in again.', 400);
  }
  return details;
}

/**
 * Records the step's result on the interaction this request loaded, and says where the browser goes
 * next: what oidc-provider's `interactionResult` does, without reading the interaction, its cookie
 * and its session a second time. `merge` keeps what an earlier step of this interaction submitted.
 */
export async function saveResult(details: InteractionDetails, result: InteractionResults, merge = true): Promise<string> {
  details.result = merge && !('error' in result) ? { ...details.lastSubmission, ...result } : result;
  await details.save(details.exp - Math.floor(Date.now() / 1000));
  return details.returnTo;
}

/** Ends the current step and sends the browser back to the authorization endpoint. */
export async function finishStep(details: InteractionDetails, ctx: Context, result: InteractionResults, merge = true): Promise<void> {
  const redirectTo = await saveResult(details, result, merge);
  ctx.status = 303;
  ctx.redirect(redirectTo);
}

/** What the authorization request behind this interaction asks of the second-factor rule. */
export function requestFacts(details: InteractionDetails): AuthorizationRequestFacts {
  return { acrValues: details.params.acr_values, acrClaim: acrClaimOf(details.params.claims), adminArea: isAdminClient(details.params.client_id) };
}

/**
 * The authorization request this interaction belongs to, to start it afresh: a sign-in that used up
 * its attempts offers this instead of a form. The relying party's state, nonce and PKCE challenge
 * are kept, so the answer still fits what it is waiting for.
 */
export function restartUrlOf({ provider }: InteractionDependencies, details: InteractionDetails): string {
  const url = new URL(provider.urlFor('authorization'));
  for (const [name, value] of Object.entries(details.params)) {
    if (typeof value === 'string') url.searchParams.set(name, value);
  }
  return url.pathname + url.search;
}
