import { interactionPolicy as oidcPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { SecondFactorStep } from '../policy/second-factor.js';

const { Check, Prompt, base } = oidcPolicy;

export const SECOND_FACTOR_PROMPT = 'second_factor';
export const SETUP_REASON = 'second_factor_setup_required';
export const CHALLENGE_REASON = 'second_factor_required';
export const GRACE_REASON = 'second_factor_setup_due';
/**
 * Set in an interaction's result when the member chose "Remind me later": this authorization
 * request goes on without the second factor (docs/rules.md, "Rolling enforcement out").
 */
export const SETUP_DEFERRED = 'secondFactorSetupDeferred';

export type SecondFactorStepResolver = (ctx: KoaContextWithOIDC) => Promise<SecondFactorStep>;

/**
 * The prompts a sign-in goes through, in order, re-checked at every authorization request:
 *   login          email and password;
 *   second_factor  set up 2FA (required, not set up) or prove it (required, and this session has not),
 *                  or — in a grace period — set it up or put it off until the deadline;
 *   consent        skipped for first-party clients.
 * The rule deciding `second_factor` lives in src/policy; it also decides requests for a two-factor
 * `acr`, which is why the login prompt's own essential-acr checks are removed. With prompt=none a
 * needed step answers `interaction_required`.
 */
export function interactionPolicy(stepFor: SecondFactorStepResolver): ReturnType<typeof base> {
  const policy = base();
  const login = policy.get('login')!;
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');

  const steps = new WeakMap<KoaContextWithOIDC, Promise<SecondFactorStep>>();
  const step = (ctx: KoaContextWithOIDC) => {
    if (!ctx.oidc.session?.accountId) return Promise.resolve<SecondFactorStep>('none');
    let pending = steps.get(ctx);
    if (!pending) {
      pending = stepFor(ctx);
      steps.set(ctx, pending);
    }
    return pending;
  };

  const secondFactor = new Prompt(
    { name: SECOND_FACTOR_PROMPT, requestable: false },
    new Check(SETUP_REASON, 'Two-factor authentication must be set up', 'interaction_required', async (ctx) =>
      (await step(ctx)) === 'setup' ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
    new Check(CHALLENGE_REASON, 'The second factor is required', 'interaction_required', async (ctx) =>
      (await step(ctx)) === 'challenge' ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
    new Check(GRACE_REASON, 'Two-factor authentication is due to be set up', 'interaction_required', async (ctx) =>
      (await step(ctx)) === 'grace' && ctx.oidc.result?.[SETUP_DEFERRED] !== true ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
  );
  policy.add(secondFactor, policy.findIndex((prompt) => prompt.name === 'consent'));
  return policy;
}
