import { interactionPolicy as oidcPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { OrganizationSignIn } from '../policy/organization-scope.js';
import type { SecondFactorStep } from '../policy/second-factor.js';

const { Check, Prompt, base } = oidcPolicy;

export const SECOND_FACTOR_PROMPT = 'second_factor';
export const ORGANIZATION_PROMPT = 'organization';
export const SETUP_REASON = 'second_factor_setup_required';
export const CHALLENGE_REASON = 'second_factor_required';
export const GRACE_REASON = 'second_factor_setup_due';
/**
 * Set in an interaction's result when the member chose "Remind me later": this authorization
 * request goes on without the second factor (docs/rules.md, "Rolling enforcement out").
 */
export const SETUP_DEFERRED = 'secondFactorSetupDeferred';

const ACCOUNT_UNAVAILABLE_REASON = 'account_unavailable';
const NOT_A_MEMBER_REASON = 'not_a_member';

export type SecondFactorStepResolver = (ctx: KoaContextWithOIDC) => Promise<SecondFactorStep>;
export type OrganizationSignInResolver = (ctx: KoaContextWithOIDC) => Promise<OrganizationSignIn>;

/**
 * The prompts a sign-in goes through, in order, re-checked at every authorization request:
 *   login          email and password — also for a session whose account cannot sign in any more
 *                  (suspended or deleted: findAccount does not find it), so SSO never answers for it;
 *   organization   the application asked to sign in for one organization (`organization:<slug>`) and
 *                  the person is not a member: a page says so, and the application gets access_denied;
 *   second_factor  set up 2FA (required, not set up) or prove it (required, and this session has not),
 *                  or — in a grace period — set it up or put it off until the deadline;
 *   consent        skipped for first-party clients.
 * The rule deciding `second_factor` lives in src/policy; it also decides requests for a two-factor
 * `acr`, which is why the login prompt's own essential-acr checks are removed. With prompt=none a
 * needed step answers `interaction_required`.
 */
export function interactionPolicy(stepFor: SecondFactorStepResolver, organizationSignIn: OrganizationSignInResolver): ReturnType<typeof base> {
  const policy = base();
  const login = policy.get('login')!;
  login.checks.remove('essential_acrs');
  login.checks.remove('essential_acr');
  login.checks.add(new Check(ACCOUNT_UNAVAILABLE_REASON, 'The account of this session cannot sign in', 'login_required', (ctx) =>
    (ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT)), 0);

  const organization = new Prompt(
    { name: ORGANIZATION_PROMPT, requestable: false },
    new Check(NOT_A_MEMBER_REASON, 'The End-User is not a member of the organization the client asked for', 'access_denied', async (ctx) =>
      (ctx.oidc.session?.accountId && (await organizationSignIn(ctx)).kind !== 'allowed' ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT)),
  );
  policy.add(organization, policy.findIndex((prompt) => prompt.name === 'login') + 1);

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
