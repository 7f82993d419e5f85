import type { RouterContext } from '@koa/router';
import { NotFoundError, UserError } from '../src/errors.js';
import { EMAIL_CODE_SENTENCES } from '../src/application/setup-confirmation.js';
import { readForm, type Form } from '../src/http/forms.js';
import { readMailboxProof } from '../src/http/mailbox-proof-cookie.js';
import { render } from '../src/http/views.js';
import { sendRecoveryCodesFile } from '../src/http/recovery-codes-file.js';
import { describeBrowser, writeRememberedBrowser } from '../src/http/remembered-browser-cookie.js';
import { reachedTwoFactorAcr } from '../src/policy/acr-request.js';
import { daysLeft } from '../src/policy/second-factor.js';
import { GRACE_REASON, SECOND_FACTOR_PROMPT, SETUP_DEFERRED, SETUP_REASON } from '../src/provider/interaction-policy.js';
import { LONG_COOKIE, SESSION_TTL_SECONDS } from '../src/provider/configuration.js';
import type { InteractionDependencies } from './dependencies.js';
import type { User } from '../src/application/types.js';
import { EXPIRED_SENTENCE, finishStep, loadInteraction, requestFacts, restartUrlOf, saveResult, type InteractionDetails } from './details.js';
import { forgetPasswordVerified, readPasswordVerified } from './password-verified.js';

/*
 * The second-factor step of a sign-in (docs/rules.md, "Setup", "Challenge and recovery"): setup by QR code and the recovery codes that
 * follow, or the passcode challenge with recovery codes as the alternative. The interaction's uid
 * keys the setup in progress, so a setup proven in one sign-in cannot finish another.
 */

async function userOf(services: InteractionDependencies, details: InteractionDetails): Promise<User> {
  const user = details.session?.accountId ? await services.signIns.account(details.session.accountId) : null;
  if (!user) throw new UserError(EXPIRED_SENTENCE, 400);
  return user;
}

async function loadStep(services: InteractionDependencies, ctx: RouterContext): Promise<{ details: InteractionDetails; user: User }> {
  const details = await loadInteraction(services, ctx, SECOND_FACTOR_PROMPT);
  return { details, user: await userOf(services, details) };
}

const isSetup = (details: InteractionDetails) => details.prompt.reasons.includes(SETUP_REASON);
/** A security key or passkey is the only way on; said where the page cannot use one. */
const KEYS_ONLY_WITHOUT_SCRIPT = 'Your organization requires a security key or passkey, so open this page in a browser that runs JavaScript, or ask your organization\'s owner or IT team for help.';
const NO_RECOVERY_HERE = 'This application asks for your security key or passkey itself: a recovery code is not enough here.';
const KEYS_ONLY = 'Your organization requires a security key or passkey for signing in: use it here. An authenticator app is not enough.';
/** The e-mailed code typed on a first set-up's page, and whether this browser just proved the mailbox. */
const firstSetupProof = (ctx: RouterContext, form: Form, user: User) => ({ emailCode: form.field('emailCode'), mailboxProvenAt: readMailboxProof(ctx, user) });
/** RFC 8176 values a security key or passkey reports. */
const byKey = (amr: string) => amr === 'hwk' || amr === 'swk';
const isGrace = (details: InteractionDetails) => details.prompt.reasons.includes(GRACE_REASON);

/**
 * The grace-period interstitial (docs/rules.md, "Rolling enforcement out"): the deadline, with
 * "Set up now" and "Remind me later". It is shown only while the deadline is ahead.
 */
async function showGrace(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails, user: User): Promise<void> {
  // A member who has an app, where a security key or passkey is required, is given time to add one.
  const forKey = (await services.secondFactors.facts(user)).enrolled;
  const deadline = forKey ? await services.secondFactors.keyDeadline(user) : await services.secondFactors.deadline(user);
  if (!deadline) throw new UserError(EXPIRED_SENTENCE, 400);
  const names = await services.members.enforcingOrganizationNames(user);
  render(ctx, 'grace', {
    title: forKey ? 'Add a security key or passkey' : 'Set up two-factor authentication',
    forKey,
    action: `/interaction/${details.uid}/grace`,
    deadline,
    deadlineText: `${deadline.toISOString().slice(0, 10)} at ${deadline.toISOString().slice(11, 16)} UTC`,
    daysLeft: daysLeft(deadline, new Date()),
    organizations: names.length ? names.join(' and ') : 'Your organization',
    organizationCount: Math.max(1, names.length),
  });
}

/**
 * The member's choice on the interstitial. "Set up now" opens the setup; "Remind me later" lets
 * this sign-in go on with what it proved (the password: `amr` stays as it was). After the deadline
 * the interstitial is no longer offered, so a late "Remind me later" lands on the setup.
 */
export async function submitGrace(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const form = await readForm(ctx);
  if (!isGrace(details)) return showSetup(services, ctx, details, user);
  if (form.field('choice') !== 'later') return showSetup(services, ctx, details, user);
  services.secondFactors.skippedInGrace();
  await finishStep(details, ctx, { [SETUP_DEFERRED]: true });
}

/** What went wrong on a set-up page, next to its field; or a note about the e-mailed code. */
interface SetupProblem {
  readonly field: 'token' | 'name' | 'key' | 'emailCode';
  readonly error: string;
  /** The key's name as typed, kept for another try. */
  readonly name?: string;
}

/**
 * The e-mailed code of a first set-up (docs/rules.md, "The first set-up belongs to the person"): sent
 * when the page first shows, unless one is live or the mailbox was just proven by a link.
 */
async function emailCodeLocals(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails, user: User, problem?: SetupProblem, sentNow = false) {
  const confirmation = await services.secondFactors.firstSetupConfirmation(details.uid, user, readMailboxProof(ctx, user));
  if (!confirmation.required) return { emailCode: null };
  return {
    emailCode: {
      email: user.email,
      resendAction: `/interaction/${details.uid}/setup/email-code`,
      sent: sentNow || confirmation.sending === 'sent',
      error: problem?.field === 'emailCode' ? problem.error : confirmation.sending === 'limited' ? EMAIL_CODE_SENTENCES.limited : undefined,
    },
  };
}

async function showSetup(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails, user: User, problem?: SetupProblem, status = 200, sentNow = false): Promise<void> {
  // Where a security key or passkey is required, an authenticator app is not offered.
  if (await services.secondFactors.keysRequired(user, requestFacts(details))) return showKeySetup(services, ctx, details, user, problem, status, sentNow);
  const enrollment = await services.secondFactors.enrollment(details.uid, user);
  render(ctx, 'setup', {
    title: 'Set up two-factor authentication',
    action: `/interaction/${details.uid}/setup`,
    ...enrollment,
    email: user.email,
    required: true,
    securityKeyUrl: `/interaction/${details.uid}/setup/security-key`,
    error: problem?.field === 'token' ? problem.error : undefined,
    ...(await emailCodeLocals(services, ctx, details, user, problem, sentNow)),
  }, status);
}

/** The setup page's other way: a security key or passkey instead of an app. */
async function showKeySetup(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails, user: User, problem?: SetupProblem, status = 200, sentNow = false): Promise<void> {
  const keysOnly = await services.secondFactors.keysRequired(user, requestFacts(details));
  const adding = (await services.secondFactors.facts(user)).enrolled;
  render(ctx, 'security-key-add', {
    title: adding ? 'Add a security key or passkey' : 'Set up two-factor authentication',
    heading: adding ? 'Add a security key or passkey' : 'Set up two-factor authentication',
    required: true,
    keysOnly,
    action: `/interaction/${details.uid}/setup/security-key`,
    options: await services.secondFactors.keyRegistrationOptions(details.uid, user),
    name: problem?.name,
    nameError: problem?.field === 'name' ? problem.error : undefined,
    keyError: problem?.field === 'key' ? problem.error : undefined,
    otherWays: keysOnly ? KEYS_ONLY_WITHOUT_SCRIPT : 'Set up an authenticator app instead.',
    otherUrl: keysOnly ? undefined : `/interaction/${details.uid}`,
    otherLabel: 'Use an authenticator app instead',
    ...(await emailCodeLocals(services, ctx, details, user, problem, sentNow)),
  }, status);
}

/**
 * Where a passcode challenge happens: as the second-factor prompt (an existing session stepping up,
 * or one made before enforcement), or right inside the sign-in, after the password, when the policy
 * already knows a passcode is needed — which spares a fresh sign-in two round trips.
 */
export interface ChallengeStep {
  readonly details: InteractionDetails;
  readonly user: User;
  /** The form paths live under here: `<base>/challenge`, `<base>/recovery`. */
  readonly base: string;
  /** Where "Use your authenticator app instead" (or security key) goes. */
  readonly challengeUrl: string;
  /** The sign-in's `amr` so far. */
  readonly baseAmr: readonly string[];
  /** The password step ended here (no login in the session yet). */
  readonly inLogin: boolean;
}

type LoadChallenge = (services: InteractionDependencies, ctx: RouterContext) => Promise<ChallengeStep>;

async function promptChallenge(services: InteractionDependencies, ctx: RouterContext): Promise<ChallengeStep> {
  const { details, user } = await loadStep(services, ctx);
  const session = details.session?.uid ? await services.provider.Session.findByUid(details.session.uid) : undefined;
  const base = `/interaction/${details.uid}`;
  return { details, user, base, challengeUrl: base, baseAmr: session?.amr ?? ['pwd'], inLogin: false };
}

async function loginChallenge(services: InteractionDependencies, ctx: RouterContext): Promise<ChallengeStep> {
  const details = await loadInteraction(services, ctx, 'login');
  const verified = readPasswordVerified(ctx, details.uid);
  const user = verified ? await services.signIns.account(verified.accountId) : null;
  if (!user) throw new UserError('Enter your email and password again: this sign-in step has expired.', 400);
  const base = `/interaction/${details.uid}/login`;
  return { details, user, base, challengeUrl: `${base}/challenge`, baseAmr: ['pwd'], inLogin: true };
}

/** What the challenge and recovery pages show around the form: whether it can take a code, and where to get help. */
async function around(services: InteractionDependencies, step: Pick<ChallengeStep, 'details' | 'user'>) {
  const standing = await services.secondFactors.standing(step.user, step.details.uid);
  return {
    standing: standing.kind,
    lockedUntil: standing.kind === 'locked' ? standing.until : undefined,
    lockedMinutes: standing.kind === 'locked' ? Math.max(1, Math.ceil((standing.until.getTime() - Date.now()) / 60_000)) : undefined,
    restartUrl: restartUrlOf(services, step.details),
    whomToAsk: await services.members.whomToAsk(step.user),
  };
}

/**
 * The challenge: the passcode field when the user has an app, the security-key button when they
 * have a key (a fresh challenge held under the interaction), or both. Once the sign-in used up its
 * attempts, or the account is locked, no form but a way on.
 */
export async function showChallenge(
  services: InteractionDependencies,
  ctx: RouterContext,
  step: Pick<ChallengeStep, 'details' | 'user' | 'base'>,
  error?: string,
  status = 200,
  keyError?: string,
): Promise<void> {
  const state = await around(services, step);
  const offer = await services.secondFactors.challengeOffer(step.user, requestFacts(step.details));
  const keyOptions = state.standing === 'open' && offer.key ? await services.secondFactors.keyAuthenticationOptions(step.details.uid, step.user) : null;
  render(ctx, 'challenge', {
    title: offer.app ? 'Enter your one-time passcode' : 'Use your security key or passkey',
    action: `${step.base}/challenge`,
    keyAction: `${step.base}/security-key`,
    recoveryUrl: offer.recoveryCode ? `${step.base}/recovery` : undefined,
    rememberDays: await services.secondFactors.rememberBrowserDays(step.user),
    hasApp: offer.app,
    keysOnly: offer.keysRequired && offer.key,
    keyOptions,
    error,
    keyError,
    ...state,
  }, state.standing === 'open' ? status : 429);
}

async function showRecovery(services: InteractionDependencies, ctx: RouterContext, step: ChallengeStep, error?: string, status = 200): Promise<void> {
  const state = await around(services, step);
  const offer = await services.secondFactors.challengeOffer(step.user, requestFacts(step.details));
  render(ctx, 'recovery', {
    title: 'Use a recovery code',
    action: `${step.base}/recovery`,
    backUrl: step.challengeUrl,
    hasApp: offer.app,
    keysOnly: offer.keysRequired && offer.key,
    error,
    ...state,
  }, state.standing === 'open' ? status : 429);
}

/** GET /interaction/:uid at the second-factor step. */
export async function showSecondFactor(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails): Promise<void> {
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
  if (isGrace(details)) return showGrace(services, ctx, details, user);
  return showChallenge(services, ctx, { details, user, base: `/interaction/${details.uid}` });
}

/** With this few recovery codes left, a sign-in offers to make new ones before going on. */
const FEW_RECOVERY_CODES = 3;

/**
 * The sign-in so far (`pwd`, or `fed` and the upstream's values) plus Twofold's second factor. After
 * a recovery code — the phone may be gone — or when few codes are left, a page offers the account
 * page (a new authenticator app, new codes) before going on to the application.
 */
async function passSecondFactor(
  services: InteractionDependencies,
  ctx: RouterContext,
  step: Pick<ChallengeStep, 'details' | 'user' | 'baseAmr' | 'inLogin'>,
  proved: { readonly amr: string; readonly usedRecoveryCode?: boolean; readonly rememberThisBrowser?: boolean },
): Promise<void> {
  const { details, user } = step;
  const usedRecoveryCode = proved.usedRecoveryCode ?? false;
  if (step.inLogin) forgetPasswordVerified(ctx, details.uid);
  if (proved.rememberThisBrowser) {
    const remembered = await services.secondFactors.rememberBrowser(user, describeBrowser(ctx.get('user-agent')), ctx.ip);
    if (remembered) writeRememberedBrowser(ctx, remembered.token, remembered.expiresAt);
  }
  await services.signIns.recordSignIn(user.id);
  const result = { login: { accountId: user.id, amr: [...new Set([...step.baseAmr, proved.amr, 'mfa'])], acr: reachedTwoFactorAcr(details.params.acr_values, byKey(proved.amr)), remember: true } };
  const remaining = await services.secondFactors.recoveryCodesLeft(user);
  if (!usedRecoveryCode && remaining > FEW_RECOVERY_CODES) return finishStep(details, ctx, result, !step.inLogin);
  const continueUrl = await saveResult(details, result, !step.inLogin);
  render(ctx, 'recovery-offer', { title: 'Keep a way to sign in', remaining, usedRecoveryCode, continueUrl, accountAction: `/interaction/${details.uid}/account` });
}

/**
 * "Open my account page" on that offer: the sign-in just proved both factors, so it is recorded in
 * the browser's Twofold session right away — the account page then opens without asking again (the
 * phone may be gone, and recovery codes are few) — and the relying party's sign-in is left unanswered.
 */
export async function openAccountAfterSignIn(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx);
  await readForm(ctx);
  const login = (details.result as { login?: { accountId: string; amr: string[]; acr: string } } | undefined)?.login;
  if (!login) throw new UserError(EXPIRED_SENTENCE, 400);
  const session = await services.provider.Session.get(ctx);
  if (session.accountId && session.accountId !== login.accountId) throw new UserError(EXPIRED_SENTENCE, 400);
  session.loginAccount({ accountId: login.accountId, amr: login.amr, acr: login.acr });
  if (typeof session.exp === 'number') {
    await session.persist();
  } else {
    // A browser without a Twofold session yet: oidc-provider sets its cookie only on its own routes, so it is set here.
    await session.save(SESSION_TTL_SECONDS);
    const { cookies } = services.provider.createContext(ctx.req, ctx.res);
    cookies.set(services.provider.cookieName('session'), session.jti, { ...LONG_COOKIE, expires: new Date(session.exp! * 1000) });
  }
  ctx.status = 303;
  ctx.redirect('/account');
}

export async function submitSetup(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const form = await readForm(ctx);
  if (await services.secondFactors.keysRequired(user, requestFacts(details))) return showKeySetup(services, ctx, details, user, { field: 'key', error: KEYS_ONLY }, 400);
  const result = await services.secondFactors.completeEnrollment(details.uid, user, form.field('token'), ctx.ip, firstSetupProof(ctx, form, user));
  if (!result.ok) return showSetup(services, ctx, details, user, { field: result.field ?? 'token', error: result.error }, result.status);
  ctx.status = 303;
  ctx.redirect(`/interaction/${details.uid}`);
}

export async function showSecurityKeySetup(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  if (!isSetup(details) && !isGrace(details)) throw new UserError(EXPIRED_SENTENCE, 400);
  await showKeySetup(services, ctx, details, user);
}

/**
 * A security key as the first factor: the recovery codes follow, as after an app. Added beside an
 * app the sign-in already proved (a key is required now), it goes on to the application at once.
 */
export async function submitSecurityKeySetup(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  if (!isSetup(details) && !isGrace(details)) throw new UserError(EXPIRED_SENTENCE, 400);
  const form = await readForm(ctx);
  const result = await services.secondFactors.addSecurityKey(details.uid, user, form.field('response'), form.field('name'), ctx.ip, firstSetupProof(ctx, form, user));
  if (!result.ok) return showKeySetup(services, ctx, details, user, { field: result.field, error: result.error, name: form.field('name').slice(0, 60) }, result.status);
  if (!result.first) return passSecondFactor(services, ctx, await promptChallenge(services, ctx), { amr: result.amr });
  ctx.status = 303;
  ctx.redirect(`/interaction/${details.uid}`);
}

/** "Send a new code" on a first set-up's page: a fresh e-mailed code, and the page again (app or key, as the form says). */
export async function resendSetupEmailCode(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  if (!isSetup(details) && !isGrace(details)) throw new UserError(EXPIRED_SENTENCE, 400);
  const form = await readForm(ctx);
  const sending = await services.secondFactors.resendSetupCode(details.uid, user);
  const problem = sending === 'limited' ? { field: 'emailCode' as const, error: EMAIL_CODE_SENTENCES.limited } : undefined;
  const show = form.field('for') === 'key' ? showKeySetup : showSetup;
  await show(services, ctx, details, user, problem, problem ? 429 : 200, sending === 'sent');
}

export async function downloadRecoveryCodes(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  const codes = await services.secondFactors.freshRecoveryCodes(details.uid, user);
  if (!codes) throw new NotFoundError('These recovery codes were already put away. You can make a new set on your account page.');
  sendRecoveryCodesFile(ctx, services.config, user, codes);
}

/** After the recovery codes: the setup proved the passcode, so the sign-in continues with the second factor. */
export async function continueAfterSetup(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const { details, user } = await loadStep(services, ctx);
  await readForm(ctx);
  if (!(await services.secondFactors.freshRecoveryCodes(details.uid, user))) throw new UserError(EXPIRED_SENTENCE, 400);
  await services.secondFactors.forgetEnrollment(details.uid);
  await passSecondFactor(services, ctx, await promptChallenge(services, ctx), { amr: await services.secondFactors.setupAmr(user) });
}

const submitChallengeWith = (load: LoadChallenge) => async (services: InteractionDependencies, ctx: RouterContext): Promise<void> => {
  const step = await load(services, ctx);
  const form = await readForm(ctx);
  if (!(await services.secondFactors.challengeOffer(step.user, requestFacts(step.details))).app) return showChallenge(services, ctx, step, undefined, 400, KEYS_ONLY);
  const result = await services.secondFactors.check(step.user, 'totp', form.field('passcode'), step.details.uid, ctx.ip);
  if (!result.ok) return showChallenge(services, ctx, step, result.error, result.status);
  await passSecondFactor(services, ctx, step, { amr: result.amr, rememberThisBrowser: form.field('remember') === 'on' });
};

const submitSecurityKeyWith = (load: LoadChallenge) => async (services: InteractionDependencies, ctx: RouterContext): Promise<void> => {
  const step = await load(services, ctx);
  const form = await readForm(ctx);
  const result = await services.secondFactors.check(step.user, 'security-key', form.field('response'), step.details.uid, ctx.ip);
  if (!result.ok) return showChallenge(services, ctx, step, undefined, result.status, result.error);
  await passSecondFactor(services, ctx, step, { amr: result.amr, rememberThisBrowser: form.field('remember') === 'on' });
};

const showRecoveryWith = (load: LoadChallenge) => async (services: InteractionDependencies, ctx: RouterContext): Promise<void> => {
  await showRecovery(services, ctx, await load(services, ctx));
};

const submitRecoveryWith = (load: LoadChallenge) => async (services: InteractionDependencies, ctx: RouterContext): Promise<void> => {
  const step = await load(services, ctx);
  const form = await readForm(ctx);
  if (!(await services.secondFactors.challengeOffer(step.user, requestFacts(step.details))).recoveryCode) return showChallenge(services, ctx, step, undefined, 400, NO_RECOVERY_HERE);
  const result = await services.secondFactors.check(step.user, 'recovery-code', form.field('code'), step.details.uid, ctx.ip);
  if (!result.ok) return showRecovery(services, ctx, step, result.error, result.status);
  await passSecondFactor(services, ctx, step, { amr: result.amr, usedRecoveryCode: true });
};

export const submitChallenge = submitChallengeWith(promptChallenge);
export const submitSecurityKey = submitSecurityKeyWith(promptChallenge);
export const submitLoginSecurityKey = submitSecurityKeyWith(loginChallenge);
export const showRecoveryPage = showRecoveryWith(promptChallenge);
export const submitRecovery = submitRecoveryWith(promptChallenge);

export const submitLoginChallenge = submitChallengeWith(loginChallenge);
export const showLoginRecoveryPage = showRecoveryWith(loginChallenge);
export const submitLoginRecovery = submitRecoveryWith(loginChallenge);
export async function showLoginChallenge(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  await showChallenge(services, ctx, await loginChallenge(services, ctx));
}
