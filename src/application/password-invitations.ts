import crypto from 'node:crypto';
import { UserError, ValidationError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { Store, User } from '../store/types.js';
import type { AuditLog } from './audit-log.js';
import { validatePassword } from './validation.js';

const TTL_MS = 7 * 24 * 60 * 60 * 1000;
const EXPIRED = 'This invitation link has expired or was already used. Ask your organization\'s owner to invite you again.';

/** Only the SHA-256 of the e-mailed token is stored: the database alone cannot set anyone's password. */
const tokenHash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/**
 * Links to set a first password: e-mailed to a new account an owner added, or to an account taken
 * back from an identity provider. Single use, seven days.
 */
export class PasswordInvitations {
  constructor(
    private readonly store: Pick<Store, 'invitations' | 'users' | 'memberships'>,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly audit: AuditLog,
    private readonly issuer: string,
  ) {}

  async send(user: User, organizationName: string | null, invitedBy: string): Promise<void> {
    const token = crypto.randomBytes(32).toString('base64url');
    await this.store.invitations.create(tokenHash(token), user.id, new Date(Date.now() + TTL_MS));
    await this.mailer.send({ to: user.email, message: 'invitation', locals: { organizationName, link: `${this.issuer}/invitation/${token}`, invitedBy } });
  }

  /** Whom the link is for, while it works. */
  async recipient(token: string): Promise<User> {
    const userId = await this.store.invitations.find(tokenHash(token));
    const user = userId ? await this.store.users.findById(userId) : null;
    if (!user) throw new UserError(EXPIRED, 410);
    return user;
  }

  /** Sets the password and spends the link; two racing submissions cannot both use it. */
  async setPassword(token: string, password: string, confirmation: string, ip: string): Promise<User> {
    const user = await this.recipient(token);
    validatePassword(password);
    if (password !== confirmation) throw new ValidationError('The two passwords are not the same.', 'confirm');
    if ((await this.store.invitations.consume(tokenHash(token))) !== user.id) throw new UserError(EXPIRED, 410);
    await this.store.users.updatePasswordHash(user.id, await this.hasher.hash(password));
    await this.audit.recordForUser('account.password_set', user, { actor: user, ip, details: { via: 'invitation link' } });
    return user;
  }
}
