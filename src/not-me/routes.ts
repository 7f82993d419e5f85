import Router from '@koa/router';
import type { FactorReports } from '../application/factor-reports.js';
import { readForm } from '../http/forms.js';
import { render } from '../http/views.js';

/**
 * "This wasn't me" (docs/rules.md, "The first set-up belongs to the person"): the link in an e-mail
 * about a new factor opens a page that says what will happen; only its button acts, with the page's
 * CSRF token, so that a mail scanner that follows links changes nothing.
 */
export function notMeRouter({ factorReports }: { factorReports: FactorReports }): Router {
  const router = new Router({ prefix: '/not-me' });
  const token = (raw: unknown) => String(raw);

  router.get('/:token', async (ctx) => {
    const report = await factorReports.preview(token(ctx.params.token));
    ctx.set('Cache-Control', 'no-store');
    render(ctx, 'not-me', { title: 'Secure your account', ...report, action: ctx.path });
  });

  router.post('/:token', async (ctx) => {
    await readForm(ctx);
    const outcome = await factorReports.report(token(ctx.params.token), ctx.ip);
    render(ctx, 'not-me-done', { title: 'Your account is secured', ...outcome });
  });

  return router;
}
