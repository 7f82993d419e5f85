import type { RouterContext } from '@koa/router';
import { NotFoundError, UserError } from '../src/errors.js';
import { readForm } from '../src/http/forms.js';
import { render } from '../src/http/views.js';
import { sendRecoveryCodesFile } from '../src/mfa/recovery-codes-file.js';
import { reachedTwoFactorAcr } from '../src/policy/acr-request.js';
import { SECOND_FACTOR_PROMPT, SETUP_REASON } from '../src/provider/interaction-policy.js';
import type { Services } from '../src/services.js';
import type { User } from '../src/store/types.js';
import { EXPIRED_SENTENCE, finishStep, loadInteraction, type InteractionDetails } from './details.js';

/*
 * The second-factor step of a sign-in (SPEC 1.3, 1.4): setup by QR code and the recovery codes that
 * follow, or the passcode challenge with recovery codes as the alternative. The interaction's uid
 * keys the setup in progress, so a setup proven in one sign-in cannot finish another.
 */

async function userOf(services: Services, details: InteractionDetails): Promise<User> {
  const user = details.session?.accountId ? await services.store.users.findById(details.session.accountId) : null;
  if (!user) throw new UserError(EXPIRED_SENTENCE, 400);
  return user;
}

async function loadStep(services: Services, ctx: RouterContext): Promise<{ details: InteractionDetails; user: User }> {
  const details = await loadInteraction(services, ctx, SECOND_FACTOR_PROMPT);
  return { details, user: await userOf(services, details) };
}

const isSetup = (details: InteractionDetails) => details.prompt.reasons.includes(SETUP_REASON);

async function showSetup(services: Services, ctx: RouterContext, details: InteractionDetails, user: User, error?: string, status = 200): Promise<void> {
  const enrollment = await services.secondFactors.enrollment(details.uid, user);
  render(ctx, 'setup', {
    title: 'Set up two-factor authentication',
    action: `/interaction/${details.uid}/setup`,
    ...enrollment,
    email: user.email,
    required: true,
    error,
  }, status);
}

function showChallenge(ctx: RouterContext, details: InteractionDetails, error?: string, status = 200): void {
  render(ctx, 'challenge', {
    title: 'Enter your one-time passcode',
    action: `/interaction/${details.uid}/challenge`,
    recoveryUrl: `/interaction/${details.uid}/recovery`,
    error,
  }, status);
}

function showRecovery(ctx: RouterContext, details: InteractionDetails, error?: string, status = 200): void {
  render(ctx, 'recovery', {
    title: 'Use a recovery code',
    action: `/interaction/${details.uid}/recovery`,
    backUrl: `/interaction/${details.uid}`,
    error,
  }, status);
}

/** GET /interaction/:uid at the second-factor step. */
export async function showSecondFactor(services: Services, ctx: RouterContext, details: InteractionDetails): Promise<void> {
  const user = await userOf(services, details);
  const codes = await services.secondFactors.freshRecoveryCodes(details.uid, user);
  if (codes) {
    render(ctx, 'recovery-codes', {
      title: 'Recovery codes',
      codes,
      downloadUrl: `/interaction/${details.uid}/recovery-codes.txt`,
      continueAction: `/interaction/${details.uid}/continue`,
      fresh: 'setup',
    });
    return;
  }
  if (isSetup(details)) return showSetup(services, ctx, details, user);
  return showChallenge(ctx, details);
}

/** The sign-in so far (`pwd`, or `fed` and the upstream's values) plus Twofold's second factor. */
async function passSecondFactor(services: Services, ctx: RouterContext, details: InteractionDetails, user: User): Promise<void> {
  const session = details.session?.uid ? await services.provider.Session.findByUid(details.session.uid) : undefined;
  const amr = [...new Set([...(session?.amr ?? ['pwd']), 'otp', 'mfa'])];
  await services.store.users.recordSignIn(user.id, new Date());
  await finishStep(services, ctx, {
    login: { accountId: user.id, amr, acr: reachedTwoFactorAcr(details.params.acr_values), remember: true },
  });
}

export async function submitSetup(services: Services, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const form = await readForm(ctx);
  const result = await services.secondFactors.completeEnrollment(details.uid, user, form.field('token'), ctx.ip);
  if (!result.ok) return showSetup(services, ctx, details, user, result.error, result.status);
  ctx.status = 303;
  ctx.redirect(`/interaction/${details.uid}`);
}

export async function downloadRecoveryCodes(services: Services, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const codes = await services.secondFactors.freshRecoveryCodes(details.uid, user);
  if (!codes) throw new NotFoundError('These recovery codes were already put away. You can make a new set on your account page.');
  sendRecoveryCodesFile(ctx, services.config, user, codes);
}

/** After the recovery codes: the setup proved the passcode, so the sign-in continues with the second factor. */
export async function continueAfterSetup(services: Services, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  await readForm(ctx);
  if (!(await services.secondFactors.freshRecoveryCodes(details.uid, user))) throw new UserError(EXPIRED_SENTENCE, 400);
  await services.secondFactors.forgetEnrollment(details.uid);
  await passSecondFactor(services, ctx, details, user);
}

export async function submitChallenge(services: Services, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const form = await readForm(ctx);
  const result = await services.secondFactors.checkPasscode(user, form.field('passcode'), details.uid, ctx.ip);
  if (!result.ok) return showChallenge(ctx, details, result.error, result.status);
  await passSecondFactor(services, ctx, details, user);
}

export async function showRecoveryPage(services: Services, ctx: RouterContext): Promise<void> {
  const { details } = await loadStep(services, ctx);
  showRecovery(ctx, details);
}

export async function submitRecovery(services: Services, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const form = await readForm(ctx);
  const result = await services.secondFactors.useRecoveryCode(user, form.field('code'), details.uid, ctx.ip);
  if (!result.ok) return showRecovery(ctx, details, result.error, result.status);
  await passSecondFactor(services, ctx, details, user);
}
