import type { RouterContext } from '@koa/router';
import { readForm } from '../src/http/forms.js';
import { render } from '../src/http/views.js';
import { PASSWORD_MAX_LENGTH } from '../src/directory/validation.js';
import { ACR } from '../src/provider/acr.js';
import type { Services } from '../src/services.js';
import type { User } from '../src/store/types.js';
import { finishStep, loadInteraction, type InteractionDetails } from './details.js';

const WRONG_CREDENTIALS = 'Email or password is incorrect.';

export function showLogin(ctx: RouterContext, details: InteractionDetails, locals: { email?: string; error?: string } = {}, status = 200): void {
  render(ctx, 'login', {
    uid: details.uid,
    email: locals.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
    error: locals.error,
  }, status);
}

/**
 * Checks an email and password with the same work whether or not the email exists, so neither the
 * message nor the response time tells an attacker which emails have accounts.
 */
async function authenticate({ store, hasher }: Services, email: string, password: string): Promise<User | null> {
  const user = email.length <= 254 ? await store.users.findByEmail(email.trim()) : null;
  if (password.length === 0 || password.length > PASSWORD_MAX_LENGTH || !user?.passwordHash) {
    await hasher.verifyNobody(password.slice(0, PASSWORD_MAX_LENGTH));
    return null;
  }
  if (!(await hasher.verify(user.passwordHash, password))) return null;
  if (hasher.needsRehash(user.passwordHash)) await store.users.updatePasswordHash(user.id, await hasher.hash(password));
  return user;
}

export async function submitLogin(services: Services, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx, 'login');
  const form = await readForm(ctx);
  const email = form.field('email');
  const user = await authenticate(services, email, form.field('password'));
  if (!user) {
    showLogin(ctx, details, { email, error: WRONG_CREDENTIALS }, 401);
    return;
  }
  await services.store.users.recordSignIn(user.id, new Date());
  await finishStep(services, ctx, { login: { accountId: user.id, amr: ['pwd'], acr: ACR.password, remember: true } }, false);
}
