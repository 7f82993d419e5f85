import crypto from 'node:crypto';
import { ValidationError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { Store, User } from '../store/types.js';
import type { AuditLog } from './audit-log.js';
import type { PasswordLinks } from './password-links.js';
import type { SecondFactorService } from './second-factors.js';
import { isActive } from './account-status.js';
import { PASSWORD_SENTENCES, type SignIns } from './sign-ins.js';
import { isLookupableEmail, validatePassword } from './validation.js';

/** What a change on the account page asks again (OWASP ASVS 5.0 §7.5.1): the password, and a second factor when on. */
export interface Reauthentication {
  readonly password: string;
  /** A passcode from the authenticator app. */
  readonly passcode?: string;
  /** Or, where the page offers it (a lost phone), a recovery code. */
  readonly recoveryCode?: string;
  /** Or the browser's answer from one of the user's security keys, to the challenge held under the hold key. */
  readonly securityKey?: string;
}

/** Which field was wrong and why, for the sentence next to it. */
export interface FieldProblem {
  readonly field: 'password' | 'passcode' | 'recoveryCode' | 'securityKey' | 'newPassword' | 'confirm';
  readonly message: string;
  readonly status: number;
}

/** Password-reset requests per email address and per network address in a quarter of an hour. */
const RESETS_PER_EMAIL = 3;
const RESETS_PER_ADDRESS = 20;
const RESET_WINDOW_MS = 15 * 60 * 1000;

/**
 * What staff do for themselves (docs/rules.md, "Staff help themselves"): change their password, move
 * to a new phone, and — having forgotten the password — get an e-mailed link to set a new one. None
 * of it ever skips the second factor.
 */
export class SelfService {
  constructor(
    private readonly store: Pick<Store, 'users' | 'organizations' | 'attempts'>,
    private readonly signIns: SignIns,
    private readonly secondFactors: SecondFactorService,
    private readonly passwordLinks: PasswordLinks,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly audit: AuditLog,
  ) {}

  /**
   * The password again, and the second factor when the user has one; null when both are right.
   * `holdKey` names the account session, whose wrong codes count against the same limits as a sign-in's.
   */
  async reauthenticate(user: User, input: Reauthentication, holdKey: string, ip: string): Promise<FieldProblem | null> {
    const password = await this.signIns.checkPassword(user.email, input.password, ip);
    if (password.kind !== 'ok' || password.user.id !== user.id) {
      const throttled = password.kind === 'throttled';
      return { field: 'password', message: throttled ? PASSWORD_SENTENCES.throttled : 'That password is not right.', status: throttled ? 429 : 401 };
    }
    const facts = await this.secondFactors.facts(user);
    if (!facts.enrolled) return null;
    const typed = (value: string | undefined) => value !== undefined && value.trim() !== '';
    const field = typed(input.passcode) ? 'passcode' : typed(input.recoveryCode) ? 'recoveryCode' : typed(input.securityKey) || !facts.hasApp ? 'securityKey' : 'passcode';
    const kind = ({ passcode: 'totp', recoveryCode: 'recovery-code', securityKey: 'security-key' } as const)[field];
    const check = await this.secondFactors.check(user, kind, input[field] ?? '', holdKey, ip);
    return check.ok ? null : { field, message: check.error, status: check.status };
  }

  async changePassword(user: User, input: Reauthentication & { readonly newPassword: string; readonly confirm: string }, holdKey: string, ip: string): Promise<FieldProblem | null> {
    try {
      validatePassword(input.newPassword);
    } catch (error) {
      if (error instanceof ValidationError) return { field: 'newPassword', message: error.message, status: 400 };
      throw error;
    }
    if (input.newPassword !== input.confirm) return { field: 'confirm', message: 'The two new passwords are not the same.', status: 400 };
    const problem = await this.reauthenticate(user, input, holdKey, ip);
    if (problem) return problem;
    await this.store.users.updatePasswordHash(user.id, await this.hasher.hash(input.newPassword));
    await this.passwordLinks.endAllOf(user);
    await this.secondFactors.forgetAllBrowsers(user, 'the password was changed', { actor: user, ip });
    await this.audit.recordForUser('account.password_changed', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'password-changed', locals: { ip, how: 'changed' } });
    return null;
  }

  /**
   * "Forgot your password?": the same answer whoever asks, throttled per address typed and per
   * network address. An account with a password here gets a single-use link; one that signs in at its
   * organization's identity provider is told to use that instead; an unknown address gets nothing.
   */
  async requestPasswordReset(email: string, ip: string): Promise<void> {
    const typed = email.trim().toLowerCase();
    const now = new Date();
    const forgetAt = new Date(now.getTime() + RESET_WINDOW_MS);
    const byEmail = await this.store.attempts.charge(`password-reset:email:${crypto.createHash('sha256').update(typed).digest('hex')}`, now, forgetAt);
    const byAddress = await this.store.attempts.charge(`password-reset:ip:${ip}`, now, forgetAt);
    if (byEmail.count > RESETS_PER_EMAIL || byAddress.count > RESETS_PER_ADDRESS) return;
    const user = isLookupableEmail(typed) ? await this.store.users.findByEmail(typed) : null;
    if (!user || !isActive(user)) return;
    const manager = user.managedBy ? await this.store.organizations.findById(user.managedBy) : null;
    if (manager?.federation) {
      await this.mailer.send({ to: user.email, message: 'password-reset-elsewhere', locals: { organizationName: manager.name } });
      return;
    }
    await this.passwordLinks.sendReset(user);
  }
}
