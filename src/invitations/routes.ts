import Router from '@koa/router';
import type { PasswordLinks } from '../application/password-links.js';
import { ValidationError } from '../errors.js';
import { readForm } from '../http/forms.js';
import { render } from '../http/views.js';

/** /invitation/<token>: a person added by an owner sets their first password (single-use link). */
export function invitationRouter({ passwordLinks }: { passwordLinks: PasswordLinks }): Router {
  const router = new Router({ prefix: '/invitation' });

  router.get('/:token', async (ctx) => {
    const user = await passwordLinks.recipient('invitation', String(ctx.params.token));
    render(ctx, 'invitation', { title: 'Set your password', email: user.email, action: ctx.path });
  });

  router.post('/:token', async (ctx) => {
    const form = await readForm(ctx);
    const token = String(ctx.params.token);
    try {
      const user = await passwordLinks.setPassword('invitation', token, form.field('password'), form.field('confirm'), ctx.ip);
      render(ctx, 'invitation-done', { title: 'Your password is set', email: user.email });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const user = await passwordLinks.recipient('invitation', token);
      render(ctx, 'invitation', { title: 'Set your password', email: user.email, action: ctx.path, error: error.message }, 400);
    }
  });

  return router;
}
