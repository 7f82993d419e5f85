import type { RouterContext } from '@koa/router';
import { SUSPENDED_SENTENCE } from '../src/application/account-status.js';
import { PASSWORD_SENTENCES, type PasswordCheck } from '../src/application/sign-ins.js';
import { readForm } from '../src/http/forms.js';
import { readRememberedBrowser } from '../src/http/remembered-browser-cookie.js';
import { render } from '../src/http/views.js';
import { REMEMBERED_BROWSER } from '../src/provider/remembered-sign-ins.js';
import { reachedTwoFactorAcr } from '../src/policy/acr-request.js';
import { passkeyProof, rememberPasswordVerified } from './password-verified.js';
import { showChallenge } from './second-factor.js';
import type { InteractionDependencies } from './dependencies.js';
import { finishStep, loadInteraction, requestFacts, type InteractionDetails } from './details.js';

/** What a refused password sign-in is told, and with which status. */
const REFUSALS: Readonly<Record<Exclude<PasswordCheck['kind'], 'ok'>, readonly [string, number]>> = {
  wrong: [PASSWORD_SENTENCES.wrong, 401],
  throttled: [PASSWORD_SENTENCES.throttled, 429],
  suspended: [SUSPENDED_SENTENCE, 403],
};

export interface LoginLocals {
  readonly email?: string;
  readonly error?: string;
  /** A passkey that was not accepted. */
  readonly passkeyError?: string;
  /** A passkey answered without verifying the person: the password is asked for this account. */
  readonly passkeyAccepted?: boolean;
}

export async function showLogin(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails, locals: LoginLocals = {}, status = 200): Promise<void> {
  render(ctx, 'login', {
    federation: await services.federation.anyFederated(),
    title: 'Sign in',
    uid: details.uid,
    email: locals.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
    error: locals.error,
    passkeyError: locals.passkeyError,
    passkeyAccepted: locals.passkeyAccepted === true,
    passkeyOptions: locals.passkeyAccepted ? null : await services.secondFactors.passkeyOptions(details.uid),
  }, status);
}

/**
 * "Sign in with a passkey" (docs/rules.md, "Phishing-resistant sign-in"): the passkey names its
 * account. With the device's PIN or fingerprint it is two factors at once and the sign-in is done;
 * without, it is one, and the password is asked for that account next.
 */
export async function submitPasskey(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx, 'login');
  const form = await readForm(ctx);
  const result = await services.secondFactors.signInWithPasskey(details.uid, form.field('response'), ctx.ip);
  if (!result.ok) return showLogin(services, ctx, details, { passkeyError: result.error }, result.status);
  if (!result.userVerified) {
    passkeyProof.remember(ctx, details.uid, result.user.id, result.amr);
    return showLogin(services, ctx, details, { email: result.user.email, passkeyAccepted: true });
  }
  await services.signIns.recordSignIn(result.user.id);
  await finishStep(details, ctx, {
    login: { accountId: result.user.id, amr: [result.amr, 'user', 'mfa'], acr: reachedTwoFactorAcr(details.params.acr_values, true), remember: true },
  }, false);
}

export async function submitLogin(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx, 'login');
  const form = await readForm(ctx);
  const email = form.field('email');
  // Identifier-first: the email decides. Members of a federated organization sign in at its own
  // identity provider and have no password here, so whatever was typed as one is not checked.
  const federated = await services.federation.organizationFor(email);
  if (federated) {
    ctx.status = 303;
    ctx.redirect(await services.federation.start(ctx, details.uid, federated, email));
    return;
  }
  if (form.field('password') === '') {
    showLogin(services, ctx, details, { email, error: 'Enter your password.' }, 400);
    return;
  }
  const result = await services.signIns.checkPassword(email, form.field('password'), ctx.ip);
  const passkey = passkeyProof.read(ctx, details.uid);
  if (result.kind !== 'ok') {
    const [error, status] = REFUSALS[result.kind];
    showLogin(services, ctx, details, { email, error, passkeyAccepted: passkey !== null }, status);
    return;
  }
  // The passkey answered for this account earlier in this sign-in: with the password, two factors.
  if (passkey?.accountId === result.user.id) {
    passkeyProof.forget(ctx, details.uid);
    await services.signIns.recordSignIn(result.user.id);
    await finishStep(details, ctx, {
      login: { accountId: result.user.id, amr: ['pwd', passkey.amr, 'mfa'], acr: reachedTwoFactorAcr(details.params.acr_values, true), remember: true },
    }, false);
    return;
  }
  // When the rule already says "passcode" for this request, ask for it in this same step: the sign-in
  // then finishes once, with both factors, instead of finishing, resuming and starting a second one.
  // A browser the user asked to remember stands in for the passcode where the rule lets it
  // (docs/rules.md, "Remembered browsers"); the sign-in's `amr` still says only "pwd".
  const browser = { rememberedToken: readRememberedBrowser(ctx) };
  const { acr, rememberedBrowserId } = await services.secondFactors.passwordSignInLevel(result.user, browser);
  const step = await services.secondFactors.stepFor(result.user, requestFacts(details), acr, browser);
  if (step === 'challenge') {
    rememberPasswordVerified(ctx, details.uid, result.user.id);
    await showChallenge(services, ctx, { details, user: result.user, base: `/interaction/${details.uid}/login` });
    return;
  }
  if (rememberedBrowserId) services.secondFactors.passedOnRememberedBrowser();
  await services.signIns.recordSignIn(result.user.id);
  await finishStep(details, ctx, {
    login: { accountId: result.user.id, amr: ['pwd'], acr, remember: true },
    ...(rememberedBrowserId ? { [REMEMBERED_BROWSER]: rememberedBrowserId } : {}),
  }, false);
}

/**
 * Back from the organization's identity provider: the login step ends with the upstream's `amr` and
 * the level it reached here (two-factor only where a site admin trusts that provider for it); the
 * second-factor prompt then asks for Twofold's own whenever the rule needs it.
 */
export async function finishFederatedLogin(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx, 'login');
  const result = services.federation.takeResult(ctx, details.uid);
  if (!result) {
    showLogin(services, ctx, details, { error: 'Signing in at your organization did not complete. Try again.' }, 400);
    return;
  }
  await services.signIns.recordSignIn(result.accountId);
  await finishStep(details, ctx, { login: { accountId: result.accountId, amr: result.amr, acr: result.acr, remember: true } }, false);
}
