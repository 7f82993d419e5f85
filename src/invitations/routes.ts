import Router from '@koa/router';
import { invitationTokenHash } from '../admin/admin-service.js';
import { validatePassword } from '../directory/validation.js';
import { UserError, ValidationError } from '../errors.js';
import { readForm } from '../http/forms.js';
import { render } from '../http/views.js';
import type { Services } from '../services.js';

const EXPIRED = 'This invitation link has expired or was already used. Ask your organization\'s owner to invite you again.';

/** /invitation/<token>: a person added by an owner sets their first password (single-use link). */
export function invitationRouter({ store, hasher }: Services): Router {
  const router = new Router({ prefix: '/invitation' });

  router.get('/:token', async (ctx) => {
    const userId = await store.invitations.find(invitationTokenHash(String(ctx.params.token)));
    const user = userId ? await store.users.findById(userId) : null;
    if (!user) throw new UserError(EXPIRED, 410);
    render(ctx, 'invitation', { title: 'Set your password', email: user.email, action: ctx.path });
  });

  router.post('/:token', async (ctx) => {
    const form = await readForm(ctx);
    const tokenHash = invitationTokenHash(String(ctx.params.token));
    const userId = await store.invitations.find(tokenHash);
    const user = userId ? await store.users.findById(userId) : null;
    if (!user) throw new UserError(EXPIRED, 410);
    const password = form.field('password');
    let error: string | undefined;
    try {
      validatePassword(password);
      if (password !== form.field('confirm')) throw new ValidationError('The two passwords are not the same.');
    } catch (problem) {
      if (!(problem instanceof ValidationError)) throw problem;
      error = problem.message;
    }
    if (error) return render(ctx, 'invitation', { title: 'Set your password', email: user.email, action: ctx.path, error }, 400);
    if ((await store.invitations.consume(tokenHash)) !== user.id) throw new UserError(EXPIRED, 410);
    await store.users.updatePasswordHash(user.id, await hasher.hash(password));
    render(ctx, 'invitation-done', { title: 'Your password is set', email: user.email });
  });

  return router;
}
