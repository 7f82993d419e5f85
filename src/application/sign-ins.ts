import type { PasswordHasher } from '../security/password-hasher.js';
import type { PasswordThrottle } from '../security/password-throttle.js';
import type { Store, User } from '../store/types.js';
import { isActive } from './account-status.js';
import type { ApplicationMetrics } from './metrics.js';
import type { SecondFactorService } from './second-factors.js';
import type { SignOuts } from './sign-outs.js';
import { PASSWORD_MAX_LENGTH, isLookupableEmail } from './validation.js';

export type PasswordCheck = { readonly kind: 'ok'; readonly user: User } | { readonly kind: 'wrong' } | { readonly kind: 'throttled' } | { readonly kind: 'suspended' };

export const PASSWORD_SENTENCES = {
  wrong: 'Email or password is incorrect.',
  throttled: 'Too many sign-in attempts. Wait a few minutes and try again.',
} as const;

/**
 * What the sign-in pages and Twofold's own apps need of accounts: the password check, the account a
 * sign-in is for, the time of the last sign-in, and ending a user's other sessions.
 */
export class SignIns {
  constructor(
    private readonly store: Pick<Store, 'users'>,
    private readonly hasher: PasswordHasher,
    private readonly throttle: PasswordThrottle,
    private readonly metrics: ApplicationMetrics,
    private readonly secondFactors: Pick<SecondFactorService, 'forgetAllBrowsers'>,
    private readonly signOuts: Pick<SignOuts, 'endSessions'>,
  ) {}

  /**
   * Checks an email and password, throttled per email and per IP, with the same work whether or not
   * the email has an account — neither the sentence nor the time tells which emails exist. A hash
   * made with older parameters (or imported from elsewhere) is upgraded on success. A suspended
   * account is told so only after its right password; a wrong one gets the usual answer.
   */
  async checkPassword(email: string, password: string, ip: string): Promise<PasswordCheck> {
    const attempt = await this.throttle.begin(email.slice(0, 254), ip);
    if (!attempt.allowed) {
      if (attempt.locked) this.metrics.lockout('password');
      this.metrics.signIn('locked');
      return { kind: 'throttled' };
    }
    const user = isLookupableEmail(email.trim()) ? await this.store.users.findByEmail(email.trim()) : null;
    let ok = false;
    if (password.length === 0 || password.length > PASSWORD_MAX_LENGTH || !user?.passwordHash) {
      await this.hasher.verifyNobody(password.slice(0, PASSWORD_MAX_LENGTH));
    } else {
      ok = await this.hasher.verify(user.passwordHash, password);
    }
    if (!ok || !user) {
      const paused = await this.throttle.failed(attempt);
      if (paused.email) this.metrics.lockout('password');
      if (paused.address) this.metrics.lockout('address');
      this.metrics.signIn('invalid');
      return { kind: 'wrong' };
    }
    await this.throttle.succeeded(attempt);
    if (!isActive(user)) {
      this.metrics.signIn('suspended');
      return { kind: 'suspended' };
    }
    this.metrics.signIn('ok');
    if (this.hasher.needsRehash(user.passwordHash!)) await this.store.users.updatePasswordHash(user.id, await this.hasher.hash(password));
    return { kind: 'ok', user };
  }

  /** The account a sign-in, a session or a token is for — while it may sign in: a suspended one is not found. */
  async account(userId: string): Promise<User | null> {
    const user = await this.store.users.findById(userId);
    return user && isActive(user) ? user : null;
  }

  recordSignIn(userId: string): Promise<void> {
    return this.store.users.recordSignIn(userId, new Date());
  }

  /**
   * Signs the user out everywhere but the session `keepSessionId` (and what it signed in to), and
   * forgets every remembered browser: another browser must not sign in on the password alone.
   */
  async endOtherSessions(user: User, keepSessionId: string, ip: string | null): Promise<number> {
    const ended = await this.signOuts.endSessions(user.id, keepSessionId);
    await this.secondFactors.forgetAllBrowsers(user, 'the user signed out every other session', { actor: user, ip });
    return ended;
  }
}
