import Router, { type RouterContext } from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { Members } from '../application/members.js';
import type { SecondFactorService } from '../application/second-factors.js';
import type { FieldProblem, Reauthentication, SelfService } from '../application/self-service.js';
import type { SignIns } from '../application/sign-ins.js';
import { NotFoundError } from '../errors.js';
import { EMAIL_CODE_SENTENCES } from '../application/setup-confirmation.js';
import { readForm, type Form } from '../http/forms.js';
import { readMailboxProof } from '../http/mailbox-proof-cookie.js';
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
  'new-app': 'Your new authenticator app is set up. The old one\'s codes no longer work.',
  password: 'Your password is changed.',
  'signed-out-others': 'Every other session is signed out. No browser is remembered any more.',
  'browser-removed': 'That browser is no longer remembered: signing in there asks for a passcode again.',
  'key-added': 'Your security key or passkey is added.',
  'key-removed': 'The security key or passkey is removed; it no longer works for signing in.',
  'key-removed-last': 'The security key or passkey is removed. It was your last second factor, so two-factor authentication is turned off.',
  joined: 'You joined the organization.',
  declined: 'You declined the invitation.',
};
/** After a refused key addition: the way on, from the account page's form. */
const ASK_AGAIN = 'To try again, fill in this form once more.';
const OFFER_SIGN_OUT_AFTER = new Set(['enabled', 'disabled', 'regenerated', 'new-app', 'password', 'key-added', 'key-removed', 'key-removed-last']);

type Section = 'activate' | 'deactivate' | 'regenerate' | 'new-app' | 'password' | 'add-key' | 'remove-key';

/** A refusal shown next to its field, in its section; the page opens there with that field focused. */
interface FieldError extends Omit<FieldProblem, 'status'> {
  readonly section: Section;
  /** A passcode that was not checked (the password was wrong) is kept, so it need not be typed again. */
  readonly keptPasscode?: string;
}

export interface AccountDependencies {
  readonly config: Config;
  readonly provider: Provider;
  readonly signIns: SignIns;
  readonly secondFactors: SecondFactorService;
  readonly members: Members;
  readonly selfService: SelfService;
}

/**
 * /account (docs/rules.md, "Account page", "Staff help themselves"): a user's own password and second
 * factor. Signed in through Twofold itself; every change asks for the password again, and a passcode
 * when 2FA is on (ASVS 5.0 §7.5.1), and then offers to sign out every other session (§7.4.3).
 */
export function accountRouter({ config, provider, signIns, secondFactors, members, selfService }: AccountDependencies): Router {
  const router = new Router({ prefix: '/account' });
  const signIn = new SelfSignIn(provider, signIns, secondFactors, config.issuer, ACCOUNT_APP);
  const holdId = (account: AccountSession) => `account:${account.sessionUid}`;
  const newAppHoldId = (account: AccountSession) => `account-new-app:${account.sessionUid}`;

  const requireAccount = async (ctx: Context): Promise<AccountSession | null> => {
    const account = await signIn.current(ctx);
    if (!account) {
      if (ctx.method === 'GET') ctx.redirect(signIn.start(ctx));
      else render(ctx, 'error', { title: 'Signed out', message: 'Your account session has ended, or it no longer meets this site\'s sign-in rules. Open your account page and sign in again.', next: { href: '/account', label: 'Open your account page' } }, 401);
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
      hasApp: facts.hasApp,
      securityKeys: facts.securityKeys,
      // A fresh challenge for re-authenticating with a key, held under the account session.
      keyOptions: await secondFactors.keyAuthenticationOptions(holdId(account), account.user),
      remaining: secondFactors.remainingRecoveryCodes(facts.secondFactor),
      siteMode: facts.siteMode,
      canActivate: canActivate(facts),
      canDeactivate: canDeactivate(facts),
      mandated: facts.enrolled && !canDeactivate(facts),
      managedElsewhere: account.user.managedBy !== null,
      invitations: await members.received(account.user),
      rememberedBrowsers: await secondFactors.rememberedBrowsers(account.user),
      done: done ? DONE[done] : undefined,
      offerSignOut: done !== undefined && OFFER_SIGN_OUT_AFTER.has(done),
      error,
    }, status);
  };

  const reauthenticationIn = (form: Form, section: Section): Reauthentication => ({
    password: form.field(`${section}-password`),
    passcode: form.field(`${section}-passcode`),
    recoveryCode: form.field(`${section}-recoveryCode`),
    securityKey: form.field(`${section}-securityKey`),
  });
  const refuse = (ctx: Context, account: AccountSession, form: Form, section: Section, problem: FieldProblem) =>
    showAccount(ctx, account, {
      section,
      field: problem.field,
      message: problem.message,
      ...(problem.field === 'password' ? { keptPasscode: form.field(`${section}-passcode`).slice(0, 8) } : {}),
    }, problem.status);

  /** A form of the page, for a signed-in user: parse, call, and answer with the page again or a redirect. */
  const change = (handler: (ctx: RouterContext, account: AccountSession, form: Form) => Promise<void>) => async (ctx: RouterContext) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    await handler(ctx, account, await readForm(ctx));
  };
  const redirectTo = (ctx: Context, path: string) => {
    ctx.status = 303;
    ctx.redirect(path);
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
  router.post('/invitations/:invitationId/:answer', change(async (ctx, account) => {
    const id = String(ctx.params.invitationId);
    const answer = ctx.params.answer;
    if (answer === 'accept') await members.accept(account.user, id, ctx.ip);
    else if (answer === 'decline') await members.decline(account.user, id, ctx.ip);
    else throw new NotFoundError('There is no such page.');
    redirectTo(ctx, `/account?done=${answer === 'accept' ? 'joined' : 'declined'}`);
  }));

  router.get('/login', (ctx) => {
    ctx.redirect(signIn.start(ctx));
  });

  router.get('/callback', async (ctx) => {
    ctx.redirect(await signIn.finish(ctx));
  });

  router.get('/logout', (ctx) => {
    ctx.redirect(signIn.signOut(ctx));
  });

  router.post('/password', change(async (ctx, account, form) => {
    const problem = await selfService.changePassword(account.user, {
      ...reauthenticationIn(form, 'password'),
      newPassword: form.field('password-new'),
      confirm: form.field('password-confirm'),
    }, holdId(account), ctx.ip);
    if (problem) return refuse(ctx, account, form, 'password', problem);
    redirectTo(ctx, '/account?done=password');
  }));

  router.post('/2fa/activate', change(async (ctx, account, form) => {
    const facts = await secondFactors.facts(account.user);
    if (!canActivate(facts)) return showAccount(ctx, account, { section: 'activate', field: 'password', message: 'Two-factor authentication cannot be activated here now.' }, 409);
    const problem = await selfService.reauthenticate(account.user, { password: form.field('activate-password') }, holdId(account), ctx.ip);
    if (problem) return refuse(ctx, account, form, 'activate', problem);
    await secondFactors.forgetEnrollment(holdId(account));
    await secondFactors.enrollment(holdId(account), account.user);
    redirectTo(ctx, '/account/2fa/setup');
  }));

  /**
   * The e-mailed code of a first factor (docs/rules.md, "The first set-up belongs to the person"): sent
   * when the page first shows, unless one is live or this browser just proved the mailbox.
   */
  const emailCodeLocals = async (ctx: Context, account: AccountSession, hold: string, problem?: { field: string; error: string }, sentNow = false) => {
    const confirmation = await secondFactors.firstSetupConfirmation(hold, account.user, readMailboxProof(ctx, account.user));
    if (!confirmation.required) return { emailCode: null };
    return {
      emailCode: {
        email: account.user.email,
        resendAction: '/account/2fa/email-code',
        sent: sentNow || confirmation.sending === 'sent',
        error: problem?.field === 'emailCode' ? problem.error : confirmation.sending === 'limited' ? EMAIL_CODE_SENTENCES.limited : undefined,
      },
    };
  };
  const firstSetupProof = (ctx: Context, form: Form, account: AccountSession) => ({ emailCode: form.field('emailCode'), mailboxProvenAt: readMailboxProof(ctx, account.user) });

  const showSetup = async (ctx: Context, account: AccountSession, hold: string, action: string, problem?: { field: string; error: string }, status = 200, sentNow = false) => {
    if (!(await secondFactors.enrollmentPending(hold, account.user))) return ctx.redirect('/account');
    render(ctx, 'setup', {
      title: 'Set up two-factor authentication',
      action,
      ...(await secondFactors.enrollment(hold, account.user)),
      email: account.user.email,
      required: false,
      replacing: hold === newAppHoldId(account),
      cancelUrl: '/account',
      error: problem?.field === 'token' ? problem.error : undefined,
      ...(hold === holdId(account) ? await emailCodeLocals(ctx, account, hold, problem, sentNow) : { emailCode: null }),
    }, status);
  };

  router.get('/2fa/setup', async (ctx) => {
    const account = await requireAccount(ctx);
    if (account) await showSetup(ctx, account, holdId(account), '/account/2fa/setup');
  });

  router.post('/2fa/setup', change(async (ctx, account, form) => {
    const result = await secondFactors.completeEnrollment(holdId(account), account.user, form.field('token'), ctx.ip, firstSetupProof(ctx, form, account));
    if (!result.ok) return showSetup(ctx, account, holdId(account), '/account/2fa/setup', { field: result.field ?? 'token', error: result.error }, result.status);
    await signIn.recordSecondFactor(account);
    redirectTo(ctx, '/account/recovery-codes?after=enabled');
  }));

  /** A new phone: the password and the current passcode — or a recovery code, the old phone being gone — then a new QR code. */
  router.post('/2fa/new-app', change(async (ctx, account, form) => {
    const problem = await selfService.reauthenticate(account.user, reauthenticationIn(form, 'new-app'), holdId(account), ctx.ip);
    if (problem) return refuse(ctx, account, form, 'new-app', problem);
    await secondFactors.forgetEnrollment(newAppHoldId(account));
    await secondFactors.enrollment(newAppHoldId(account), account.user);
    redirectTo(ctx, '/account/2fa/new-app');
  }));

  router.get('/2fa/new-app', async (ctx) => {
    const account = await requireAccount(ctx);
    if (account) await showSetup(ctx, account, newAppHoldId(account), '/account/2fa/new-app/setup');
  });

  router.post('/2fa/new-app/setup', change(async (ctx, account, form) => {
    const result = await secondFactors.replaceAuthenticator(newAppHoldId(account), account.user, form.field('token'), ctx.ip);
    if (!result.ok) return showSetup(ctx, account, newAppHoldId(account), '/account/2fa/new-app/setup', { field: 'token', error: result.error }, result.status);
    redirectTo(ctx, '/account?done=new-app');
  }));

  router.post('/2fa/deactivate', change(async (ctx, account, form) => {
    if (!canDeactivate(await secondFactors.facts(account.user))) {
      return showAccount(ctx, account, { section: 'deactivate', field: 'password', message: 'Your organization or this site requires two-factor authentication, so it cannot be turned off.' }, 409);
    }
    const problem = await selfService.reauthenticate(account.user, reauthenticationIn(form, 'deactivate'), holdId(account), ctx.ip);
    if (problem) return refuse(ctx, account, form, 'deactivate', problem);
    await secondFactors.disable(account.user, { actor: account.user, ip: ctx.ip });
    redirectTo(ctx, '/account?done=disabled');
  }));

  router.post('/recovery-codes', change(async (ctx, account, form) => {
    const problem = await selfService.reauthenticate(account.user, reauthenticationIn(form, 'regenerate'), holdId(account), ctx.ip);
    if (problem) return refuse(ctx, account, form, 'regenerate', problem);
    if (!(await secondFactors.regenerateRecoveryCodes(account.user, holdId(account), ctx.ip))) {
      return showAccount(ctx, account, { section: 'regenerate', field: 'password', message: 'Two-factor authentication is not on, so there are no recovery codes to replace.' }, 409);
    }
    redirectTo(ctx, '/account/recovery-codes?after=regenerated');
  }));

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

  router.post('/recovery-codes/done', change(async (ctx, account) => {
    await secondFactors.forgetEnrollment(holdId(account));
    redirectTo(ctx, `/account?done=${ctx.query.after === 'enabled' ? 'enabled' : 'regenerated'}`);
  }));

  /** Remove on the list of remembered browsers: only ever one of the signed-in user's own. */
  router.post('/remembered-browsers/:browserId/remove', change(async (ctx, account) => {
    if (!(await secondFactors.forgetBrowser(account.user, String(ctx.params.browserId), ctx.ip))) throw new NotFoundError('That browser is not remembered for your account.');
    redirectTo(ctx, '/account?done=browser-removed');
  }));

  const showKeyAddition = async (ctx: Context, account: AccountSession, options: unknown, sentNow = false, emailProblem?: { field: string; error: string }) => {
    render(ctx, 'security-key-add', {
      ...(await emailCodeLocals(ctx, account, holdId(account), emailProblem, sentNow)),
      title: 'Add security key or passkey',
      heading: 'Add security key or passkey',
      required: false,
      action: '/account/security-keys/new',
      options,
      otherWays: 'Use an authenticator app from your account page instead.',
      otherUrl: '/account',
      otherLabel: 'Cancel and go back to your account page',
    });
  };

  /** Adding a key: the password and the current second factor first; then the browser makes the key. */
  router.post('/security-keys/add', change(async (ctx, account, form) => {
    const facts = await secondFactors.facts(account.user);
    if (!facts.enrolled && facts.siteMode === 'off') return showAccount(ctx, account, { section: 'add-key', field: 'password', message: 'Two-factor authentication cannot be activated on this site.' }, 409);
    const problem = await selfService.reauthenticate(account.user, reauthenticationIn(form, 'add-key'), holdId(account), ctx.ip);
    if (problem) return refuse(ctx, account, form, 'add-key', problem);
    await secondFactors.keyRegistrationOptions(holdId(account), account.user);
    redirectTo(ctx, '/account/security-keys/new');
  }));

  router.get('/security-keys/new', async (ctx) => {
    const account = await requireAccount(ctx);
    if (!account) return;
    const options = await secondFactors.heldKeyRegistration(holdId(account), account.user);
    if (!options) return ctx.redirect('/account');
    await showKeyAddition(ctx, account, options);
  });

  router.post('/security-keys/new', change(async (ctx, account, form) => {
    const result = await secondFactors.addSecurityKey(holdId(account), account.user, form.field('response'), form.field('name'), ctx.ip, firstSetupProof(ctx, form, account));
    // The answer spent the challenge: another try starts again from the password (and second factor),
    // so that only the person who proved who they are ever gets registration options.
    if (!result.ok) return showAccount(ctx, account, { section: 'add-key', field: 'password', message: `${result.error} ${ASK_AGAIN}` }, result.status);
    if (result.first) {
      await signIn.recordSecondFactor(account);
      return redirectTo(ctx, '/account/recovery-codes?after=enabled');
    }
    redirectTo(ctx, '/account?done=key-added');
  }));

  /** Removing a key: a page of its own that names the key and asks for the password and a second factor again. */
  const showKeyRemoval = async (ctx: Context, account: AccountSession, credentialId: string, error?: FieldError, status = 200) => {
    const facts = await secondFactors.facts(account.user);
    const key = facts.securityKeys.find((candidate) => candidate.credentialId === credentialId);
    if (!key) throw new NotFoundError('That security key or passkey is not on your account.');
    render(ctx, 'security-key-remove', {
      title: `Remove ${key.name}`,
      key,
      action: `/account/security-keys/${encodeURIComponent(key.credentialId)}/remove`,
      lastFactor: !facts.hasApp && facts.securityKeys.length === 1,
      mandated: !canDeactivate(facts),
      hasApp: facts.hasApp,
      keyOptions: await secondFactors.keyAuthenticationOptions(holdId(account), account.user),
      error,
    }, status);
  };

  router.get('/security-keys/:credentialId/remove', async (ctx) => {
    const account = await requireAccount(ctx);
    if (account) await showKeyRemoval(ctx, account, String(ctx.params.credentialId));
  });

  router.post('/security-keys/:credentialId/remove', change(async (ctx, account, form) => {
    const credentialId = String(ctx.params.credentialId);
    const problem = await selfService.reauthenticate(account.user, reauthenticationIn(form, 'remove-key'), holdId(account), ctx.ip);
    if (problem) {
      return showKeyRemoval(ctx, account, credentialId, {
        section: 'remove-key',
        field: problem.field,
        message: problem.message,
        ...(problem.field === 'password' ? { keptPasscode: form.field('remove-key-passcode').slice(0, 8) } : {}),
      }, problem.status);
    }
    const removed = await secondFactors.removeSecurityKey(account.user, credentialId, ctx.ip);
    if (!removed.ok) return showKeyRemoval(ctx, account, credentialId, { section: 'remove-key', field: 'password', message: removed.error }, removed.status);
    redirectTo(ctx, `/account?done=${removed.last ? 'key-removed-last' : 'key-removed'}`);
  }));

  /** "Send a new code" on a first set-up's page (an app's or a key's, as the form says). */
  router.post('/2fa/email-code', change(async (ctx, account, form) => {
    const sending = await secondFactors.resendSetupCode(holdId(account), account.user);
    const problem = sending === 'limited' ? { field: 'emailCode', error: EMAIL_CODE_SENTENCES.limited } : undefined;
    if (form.field('for') === 'key') {
      const options = await secondFactors.heldKeyRegistration(holdId(account), account.user);
      if (!options) return redirectTo(ctx, '/account');
      return showKeyAddition(ctx, account, options, sending === 'sent', problem);
    }
    await showSetup(ctx, account, holdId(account), '/account/2fa/setup', problem, problem ? 429 : 200, sending === 'sent');
  }));

  router.post('/sessions/end-others', change(async (ctx, account) => {
    await signIns.endOtherSessions(account.user, account.sessionId, ctx.ip);
    redirectTo(ctx, '/account?done=signed-out-others');
  }));

  return router;
}
