import type { RouterContext } from '@koa/router';
import { PASSWORD_SENTENCES, checkPassword } from '../src/auth/password-check.js';
import { readForm } from '../src/http/forms.js';
import { render } from '../src/http/views.js';
import { ACR } from '../src/provider/acr.js';
import type { Services } from '../src/services.js';
import { finishStep, loadInteraction, type InteractionDetails } from './details.js';

export function showLogin(ctx: RouterContext, details: InteractionDetails, locals: { email?: string; error?: string } = {}, status = 200): void {
  render(ctx, 'login', {
    title: 'Sign in',
    uid: details.uid,
    email: locals.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
    error: locals.error,
  }, status);
}

export async function submitLogin(services: Services, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx, 'login');
  const form = await readForm(ctx);
  const email = form.field('email');
  const result = await checkPassword(services, email, form.field('password'), ctx.ip);
  if (result.kind !== 'ok') {
    const throttled = result.kind === 'throttled';
    showLogin(ctx, details, { email, error: throttled ? PASSWORD_SENTENCES.throttled : PASSWORD_SENTENCES.wrong }, throttled ? 429 : 401);
    return;
  }
  await services.store.users.recordSignIn(result.user.id, new Date());
  await finishStep(services, ctx, { login: { accountId: result.user.id, amr: ['pwd'], acr: ACR.password, remember: true } }, false);
}
