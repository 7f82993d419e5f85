import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { PasswordLinkKind, PasswordLinks } from '../application/password-links.js';
import { ValidationError } from '../errors.js';
import { readForm } from '../http/forms.js';
import { writeMailboxProof } from '../http/mailbox-proof-cookie.js';
import { render } from '../http/views.js';

/** What a page says for each kind of e-mailed link; the form and its checks are the same for both. */
const PAGES: Readonly<Record<PasswordLinkKind, { readonly title: string; readonly intro: string; readonly doneTitle: string; readonly done: string }>> = {
  invitation: {
    title: 'Set your password',
    intro: 'Choose the password you will sign in with.',
    doneTitle: 'Your password is set',
    done: 'You can now sign in with it from your organization\'s applications. If your organization requires two-factor authentication, you set it up at your first sign-in.',
  },
  reset: {
    title: 'Set a new password',
    intro: 'Setting it signs you out everywhere; your two-factor authentication stays as it is, and your next sign-in asks for it.',
    doneTitle: 'Your new password is set',
    done: 'Sign in with it from any application of your organization. You were signed out everywhere; if you use two-factor authentication, your next sign-in asks for your passcode as before.',
  },
};

/**
 * GET and POST `<path>/<token>` on `router` for one kind of e-mailed link (docs/rules.md, "Staff help
 * themselves"): the page to choose a password while the link works, and the link spent once it is set.
 */
export function addPasswordLinkPages(router: Router, path: string, passwordLinks: PasswordLinks, kind: PasswordLinkKind): void {
  const page = PAGES[kind];
  const showForm = (ctx: RouterContext, email: string, error?: ValidationError) =>
    render(ctx, 'password-set', { title: page.title, intro: page.intro, email, action: ctx.path, error: error?.message, errorField: error?.field }, error ? 400 : 200);

  router.get(`${path}/:token`, async (ctx) => {
    showForm(ctx, (await passwordLinks.recipient(kind, String(ctx.params.token))).email);
  });

  router.post(`${path}/:token`, async (ctx) => {
    const form = await readForm(ctx);
    const token = String(ctx.params.token);
    try {
      const user = await passwordLinks.setPassword(kind, token, form.field('password'), form.field('confirm'), ctx.ip);
      writeMailboxProof(ctx, user);
      render(ctx, 'password-set-done', { title: page.doneTitle, message: page.done, email: user.email });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      showForm(ctx, (await passwordLinks.recipient(kind, token)).email, error);
    }
  });
}
