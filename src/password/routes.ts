import Router from '@koa/router';
import type { PasswordLinks } from '../application/password-links.js';
import type { SelfService } from '../application/self-service.js';
import { readForm } from '../http/forms.js';
import { render } from '../http/views.js';
import { addPasswordLinkPages } from './link-pages.js';

/** Only a sign-in page of this site may be the way back from "Forgot your password?". */
const backTo = (raw: unknown) => (typeof raw === 'string' && /^\/interaction\/[A-Za-z0-9_-]{1,64}$/.test(raw) ? raw : undefined);

/**
 * "Forgot your password?" (docs/rules.md, "Staff help themselves"): ask for a link by e-mail — the same
 * answer whether or not the address has an account — and set a new password from it. Setting it
 * signs the account out everywhere; the next sign-in still asks for the second factor.
 */
export function passwordRouter({ selfService, passwordLinks }: { selfService: SelfService; passwordLinks: PasswordLinks }): Router {
  const router = new Router({ prefix: '/password' });

  router.get('/forgot', (ctx) => {
    render(ctx, 'password-forgot', { title: 'Forgot your password?', back: backTo(ctx.query.back), email: '' });
  });

  router.post('/forgot', async (ctx) => {
    const form = await readForm(ctx);
    const email = form.field('email').slice(0, 254);
    const back = backTo(form.field('back'));
    if (email.trim() === '') return render(ctx, 'password-forgot', { title: 'Forgot your password?', back, email, error: 'Enter the email address you sign in with.' }, 400);
    await selfService.requestPasswordReset(email, ctx.ip);
    render(ctx, 'password-forgot-sent', { title: 'Check your e-mail', back, email });
  });

  addPasswordLinkPages(router, '/reset', passwordLinks, 'reset');

  return router;
}
