import { PASSWORD_MAX_LENGTH, isLookupableEmail } from '../directory/validation.js';
import type { Services } from '../services.js';
import type { User } from '../store/types.js';

export type PasswordCheck = { readonly kind: 'ok'; readonly user: User } | { readonly kind: 'wrong' } | { readonly kind: 'throttled' };

export const PASSWORD_SENTENCES = {
  wrong: 'Email or password is incorrect.',
  throttled: 'Too many sign-in attempts. Wait a few minutes and try again.',
} as const;

/**
 * Checks an email and password, throttled per email and per IP, with the same work whether or not the
 * email has an account — neither the message nor the response time tells which emails exist. A hash
 * made with older parameters is upgraded on success.
 */
export async function checkPassword(services: Services, email: string, password: string, ip: string): Promise<PasswordCheck> {
  const { store, hasher, passwordThrottle } = services;
  const attempt = await passwordThrottle.begin(email.slice(0, 254), ip);
  if (!attempt.allowed) return { kind: 'throttled' };
  const user = isLookupableEmail(email.trim()) ? await store.users.findByEmail(email.trim()) : null;
  let ok = false;
  if (password.length === 0 || password.length > PASSWORD_MAX_LENGTH || !user?.passwordHash) {
    await hasher.verifyNobody(password.slice(0, PASSWORD_MAX_LENGTH));
  } else {
    ok = await hasher.verify(user.passwordHash, password);
  }
  if (!ok || !user) {
    await passwordThrottle.failed(attempt);
    return { kind: 'wrong' };
  }
  await passwordThrottle.succeeded(attempt);
  if (hasher.needsRehash(user.passwordHash!)) await store.users.updatePasswordHash(user.id, await hasher.hash(password));
  return { kind: 'ok', user };
}
