import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { Members } from '../application/members.js';
import type { SecondFactorService } from '../application/second-factors.js';
import { PASSWORD_SENTENCES, type SignIns } from '../application/sign-ins.js';
import { NotFoundError } from '../errors.js';
import { readForm, type Form } from '../http/forms.js';
import { sendRecoveryCodesFile } from '../http/recovery-codes-file.js';
import { render } from '../http/views.js';
import { canActivate, canDeactivate } from '../policy/second-factor.js';
import { ACCOUNT_APP } from '../self-service/built-in-clients.js';
import { SelfSignIn, type SelfSession as AccountSession } from '../self-service/self-sign-in.js';

/** Confirmations shown after a change, by the `done` query parameter (never echoed from input). */
const DONE: Record<string, string> = {
  enabled: 'Two-factor authentication is enabled.',
  disabled: 'Two-factor authentication is turned off.',
  regenerated: 'Your new recovery codes are ready; the old ones no longer work.',
  'signed-out-others': 'Every other session is signed out.',
  joined: 'You joined the organization.',
  declined: 'You declined the invitation.',
};
const OFFER_SIGN_OUT_AFTER = new Set(['enabled', 'disabled', 'regenerated']);

interface FieldError {
  readonly section: 'activate' | 'deactivate' | 'regenerate';
  readonly field: 'password' | 'passcode';
  readonly message: string;
}

/**
 * /account (docs/rules.md, "Account page"): a user's own two-factor settings. Signed in through Twofold itself; every
 * change asks for the password again, and the passcode when 2FA is on (ASVS 5.0 §7.5.1), and then
 * offers to sign out every other session (§7.4.3).
 */
export interface AccountDependencies {
  readonly config: Config;
  readonly provider: Provider;
  readonly signIns: SignIns;
  readonly secondFactors: SecondFactorService;
  readonly members: Members;
}

export function accountRouter({ config, provider, signIns, secondFactors, members }: AccountDependencies): Router {
  const router = new Router({ prefix: '/account' });
  const signIn = new SelfSignIn(provider, signIns, secondFactors, config.issuer, ACCOUNT_APP);
  const holdId = (account: AccountSession) => `account:${account.sessionUid}`;

  const requireAccount = async (ctx: Context): Promise<AccountSession | null> => {
    const account = await signIn.current(ctx);
    if (!account) {
      if (ctx.method === 'GET') ctx.redirect(signIn.start(ctx));
      else render(ctx, 'error', { title: 'Signed out', message: 'Your account session has ended. Open your account page and sign in again.' }, 401);
    }
    return account;
  };

  const showAccount = async (ctx: Context, account: AccountSession, error?: FieldError, status = 200) => {
    const facts = await secondFactors.facts(account.user);
    const done = typeof ctx.query.done === 'string' && DONE[ctx.query.done] ? ctx.query.done : undefined;
    render(ctx, 'account', {
      title: 'Your account',
      user: account.user,
      enrolled: facts.enrolled,
      remaining: secondFactors.remainingRecoveryCodes(facts.secondFactor),
      siteMode: facts.siteMode,
      canActivate: canActivate(facts),
      canDeactivate: canDeactivate(facts),
      mandated: facts.enrolled && !canDeactivate(facts),
      invitations: await members.received(account.user),
      done: done ? DONE[done] : undefined,
      offerSignOut: done !== undefined && OFFER_SIGN_OUT_AFTER.has(done),
      error,
    }, status);
  };

  /** Password, and the passcode when two-factor authentication is on; null when both are right. */
  const reauthenticate = async (ctx: Context, account: AccountSession, form: Form, section: FieldError['section'], withPasscode: boolean): Promise<{ error: FieldError; status: number } | null> => {
    const password = await signIns.checkPassword(account.user.email, form.field(`${section}-password`), ctx.ip);
    if (password.kind !== 'ok' || password.user.id !== account.user.id) {
      const throttled = password.kind === 'throttled';
      return { error: { section, field: 'password', message: throttled ? PASSWORD_SENTENCES.throttled : 'That password is not right.' }, status: throttled ? 429 : 401 };
    }
    if (!withPasscode) return null;
    const passcode = await secondFactors.check(account.user, 'totp', form.field(`${section}-passcode`), holdId(account), ctx.ip);
    return passcode.ok ? null : { error: { section, field: 'passcode', message: passcode.error }, status: passcode.status };
  };

  router.get('/', async (ctx) => {
    const account = await requireAccount(ctx);
    if (account) await showAccount(ctx, account);
  });

  // The link in an invitation e-mail: the invitations are on the account page.
  router.get('/invitations', async (ctx) => {
    const account = await requireAccount(ctx);
    if (account) await showAccount(ctx, account);
  });

  /** Accepting joins the organization as the invitation says; only the invited account, signed in, can. */
  router.post('/invitations/:invitationId/:answer', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    await readForm(ctx);
    const id = String(ctx.params.invitationId);
    if (ctx.params.answer === 'accept') await members.accept(account.user, id, ctx.ip);
    else if (ctx.params.answer === 'decline') await members.decline(account.user, id, ctx.ip);
    else throw new NotFoundError('There is no such page.');
    ctx.status = 303;
    ctx.redirect(`/account?done=${ctx.params.answer === 'accept' ? 'joined' : 'declined'}`);
  });

  router.get('/login', (ctx) => {
    ctx.redirect(signIn.start(ctx));
  });

  router.get('/callback', async (ctx) => {
    ctx.redirect(await signIn.finish(ctx));
  });

  router.get('/logout', (ctx) => {
    ctx.redirect(signIn.signOut(ctx));
  });

  router.post('/2fa/activate', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const form = await readForm(ctx);
    const facts = await secondFactors.facts(account.user);
    if (!canActivate(facts)) return showAccount(ctx, account, { section: 'activate', field: 'password', message: 'Two-factor authentication cannot be activated here now.' }, 409);
    const failed = await reauthenticate(ctx, account, form, 'activate', false);
    if (failed) return showAccount(ctx, account, failed.error, failed.status);
    await secondFactors.forgetEnrollment(holdId(account));
    await secondFactors.enrollment(holdId(account), account.user);
    ctx.status = 303;
    ctx.redirect('/account/2fa/setup');
  });

  const showSetup = async (ctx: Context, account: AccountSession, error?: string, status = 200) => {
    if (!(await secondFactors.enrollmentPending(holdId(account), account.user))) return ctx.redirect('/account');
    render(ctx, 'setup', {
      title: 'Set up two-factor authentication',
      action: '/account/2fa/setup',
      ...(await secondFactors.enrollment(holdId(account), account.user)),
      email: account.user.email,
      required: false,
      error,
    }, status);
  };

  router.get('/2fa/setup', async (ctx) => {
    const account = await requireAccount(ctx);
    if (account) await showSetup(ctx, account);
  });

  router.post('/2fa/setup', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const form = await readForm(ctx);
    const result = await secondFactors.completeEnrollment(holdId(account), account.user, form.field('token'), ctx.ip);
    if (!result.ok) return showSetup(ctx, account, result.error, result.status);
    await signIn.recordSecondFactor(account);
    ctx.status = 303;
    ctx.redirect('/account/recovery-codes?after=enabled');
  });

  router.post('/2fa/deactivate', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const form = await readForm(ctx);
    if (!canDeactivate(await secondFactors.facts(account.user))) {
      return showAccount(ctx, account, { section: 'deactivate', field: 'password', message: 'Your organization or this site requires two-factor authentication, so it cannot be turned off.' }, 409);
    }
    const failed = await reauthenticate(ctx, account, form, 'deactivate', true);
    if (failed) return showAccount(ctx, account, failed.error, failed.status);
    await secondFactors.disable(account.user, { actor: account.user, ip: ctx.ip });
    ctx.status = 303;
    ctx.redirect('/account?done=disabled');
  });

  router.post('/recovery-codes', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const form = await readForm(ctx);
    const failed = await reauthenticate(ctx, account, form, 'regenerate', true);
    if (failed) return showAccount(ctx, account, failed.error, failed.status);
    if (!(await secondFactors.regenerateRecoveryCodes(account.user, holdId(account), ctx.ip))) {
      return showAccount(ctx, account, { section: 'regenerate', field: 'password', message: 'Two-factor authentication is not on, so there are no recovery codes to replace.' }, 409);
    }
    ctx.status = 303;
    ctx.redirect('/account/recovery-codes?after=regenerated');
  });

  router.get('/recovery-codes', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const codes = await secondFactors.freshRecoveryCodes(holdId(account), account.user);
    if (!codes) return ctx.redirect('/account');
    const after = ctx.query.after === 'enabled' ? 'enabled' : 'regenerated';
    render(ctx, 'recovery-codes', {
      title: 'Recovery codes',
      codes,
      downloadUrl: '/account/recovery-codes.txt',
      continueAction: `/account/recovery-codes/done?after=${after}`,
      fresh: after === 'enabled' ? 'setup' : 'regenerated',
    });
  });

  router.get('/recovery-codes.txt', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const codes = await secondFactors.freshRecoveryCodes(holdId(account), account.user);
    if (!codes) throw new NotFoundError('These recovery codes were already put away. You can make a new set on your account page.');
    sendRecoveryCodesFile(ctx, config, account.user, codes);
  });

  router.post('/recovery-codes/done', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    await readForm(ctx);
    await secondFactors.forgetEnrollment(holdId(account));
    ctx.status = 303;
    ctx.redirect(`/account?done=${ctx.query.after === 'enabled' ? 'enabled' : 'regenerated'}`);
  });

  router.post('/sessions/end-others', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    await readForm(ctx);
    await signIns.endOtherSessions(account.user, account.sessionId);
    ctx.status = 303;
    ctx.redirect('/account?done=signed-out-others');
  });

  return router;
}
