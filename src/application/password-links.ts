import crypto from 'node:crypto';
import { UserError, ValidationError, type WayOn } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { Store, User } from '../store/types.js';
import type { AuditLog } from './audit-log.js';
import type { SecondFactorService } from './second-factors.js';
import { isActive, SUSPENDED_SENTENCE } from './account-status.js';
import type { SignOuts } from './sign-outs.js';
import { validatePassword } from './validation.js';

/**
 * The two e-mailed links that set a password: an invitation (a new account an owner added, or one
 * taken back from an identity provider; seven days) and a reset (the person forgot it; thirty
 * minutes). Each is single use. Only a SHA-256 of the token is stored, tagged with its kind, so the
 * database alone sets nobody's password and a reset token opens no invitation page or the reverse.
 */
export type PasswordLinkKind = 'invitation' | 'reset';

const LINKS: Readonly<Record<PasswordLinkKind, { readonly ttlMs: number; readonly path: string; readonly expired: string; readonly wayOn?: WayOn }>> = {
  invitation: {
    ttlMs: 7 * 24 * 60 * 60 * 1000,
    path: '/invitation/',
    expired: 'This invitation link has expired or was already used. Ask your organization\'s owner to invite you again.',
  },
  reset: {
    ttlMs: 30 * 60 * 1000,
    path: '/password/reset/',
    expired: 'This link to set a new password has expired or was already used. Ask for a new one: links work once, for 30 minutes.',
    wayOn: { href: '/password/forgot', label: 'Ask for a new link' },
  },
};

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
const tokenHash = (kind: PasswordLinkKind, token: string) => sha256(`${kind}:${token}`);
/** Invitations e-mailed before links were tagged with their kind were stored as the plain hash; they still work until they expire. */
const storedHashes = (kind: PasswordLinkKind, token: string) => (kind === 'invitation' ? [tokenHash(kind, token), sha256(token)] : [tokenHash(kind, token)]);

const MANAGED_ELSEWHERE = 'Your account now signs in at your organization\'s own sign-in page, so it has no password here to set. Sign in with your email, and you will be sent there.';

export class PasswordLinks {
  constructor(
    private readonly store: Pick<Store, 'invitations' | 'users' | 'memberships'>,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly audit: AuditLog,
    private readonly issuer: string,
    private readonly secondFactors: Pick<SecondFactorService, 'forgetAllBrowsers'>,
    private readonly signOuts: Pick<SignOuts, 'endSessions'>,
  ) {}

  async #create(kind: PasswordLinkKind, user: User): Promise<string> {
    const token = crypto.randomBytes(32).toString('base64url');
    await this.store.invitations.create(tokenHash(kind, token), user.id, new Date(Date.now() + LINKS[kind].ttlMs));
    return `${this.issuer}${LINKS[kind].path}${token}`;
  }

  async sendInvitation(user: User, organizationName: string | null, invitedBy: string): Promise<void> {
    await this.mailer.send({ to: user.email, message: 'invitation', locals: { organizationName, link: await this.#create('invitation', user), invitedBy } });
  }

  async sendReset(user: User): Promise<void> {
    await this.mailer.send({ to: user.email, message: 'password-reset', locals: { link: await this.#create('reset', user) } });
  }

  /**
   * Ends every link still out for the user: whenever their password changes — by a link or on the
   * account page — an older link must not set it again (docs/rules.md, "Staff help themselves").
   */
  async endAllOf(user: User): Promise<void> {
    await this.store.invitations.removeAllOf(user.id);
  }

  /** Whom the link is for, while it works. */
  async recipient(kind: PasswordLinkKind, token: string): Promise<User> {
    return (await this.#find(kind, token)).user;
  }

  async #find(kind: PasswordLinkKind, token: string): Promise<{ user: User; hash: string }> {
    for (const hash of storedHashes(kind, token)) {
      const userId = await this.store.invitations.find(hash);
      const user = userId ? await this.store.users.findById(userId) : null;
      // An account handed to its organization's identity provider since the link was sent has no password here to set.
      if (user?.managedBy) throw new UserError(MANAGED_ELSEWHERE, 410, { href: '/account', label: 'Sign in' });
      // A link does not open a suspended account: it could not sign in with the password anyway.
      if (user && !isActive(user)) throw new UserError(SUSPENDED_SENTENCE, 403);
      if (user) return { user, hash };
    }
    throw new UserError(LINKS[kind].expired, 410, LINKS[kind].wayOn);
  }

  /**
   * Sets the password and spends the link; two racing submissions cannot both use it. A reset also
   * signs the account out everywhere and says so by e-mail; it changes nothing about the second
   * factor, which the next sign-in still asks for.
   */
  async setPassword(kind: PasswordLinkKind, token: string, password: string, confirmation: string, ip: string): Promise<User> {
    const { user, hash } = await this.#find(kind, token);
    validatePassword(password);
    if (password !== confirmation) throw new ValidationError('The two passwords are not the same.', 'confirm');
    if ((await this.store.invitations.consume(hash)) !== user.id) throw new UserError(LINKS[kind].expired, 410, LINKS[kind].wayOn);
    await this.store.users.updatePasswordHash(user.id, await this.hasher.hash(password));
    await this.endAllOf(user);
    if (kind === 'reset') {
      await this.signOuts.endSessions(user.id);
      await this.secondFactors.forgetAllBrowsers(user, 'the password was reset', { actor: user, ip });
      await this.mailer.send({ to: user.email, message: 'password-changed', locals: { ip, how: 'reset' } });
    }
    await this.audit.recordForUser(kind === 'reset' ? 'account.password_reset' : 'account.password_set', user, { actor: user, ip, details: { via: kind === 'reset' ? 'reset link' : 'invitation link' } });
    return user;
  }
}
