import crypto from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import type { Store, User } from '../store/types.js';
import { actorName, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import { leavesAnOwner } from './authorization.js';
import type { SecondFactorService } from './second-factors.js';
import type { SignOuts } from './sign-outs.js';

/** A reason is kept in the audit log and e-mailed to the person: a sentence, not an essay. */
export const REASON_MAX_LENGTH = 200;

/** What deleting an account asks of whoever does it. */
export interface DeletionInput {
  /** The account's email, typed again. */
  readonly confirmEmail: string;
  readonly reason?: string;
}

/** The reason given for a change to an account: required for suspension and reactivation, optional for deletion. */
export function parseReason(raw: string | undefined, required: boolean): string | undefined {
  const reason = (raw ?? '').trim().replace(/\s+/g, ' ');
  if (reason === '') {
    if (required) throw new ValidationError('Say why: the reason is kept in the audit log and e-mailed to the person.', 'reason');
    return undefined;
  }
  if (reason.length > REASON_MAX_LENGTH) throw new ValidationError(`Keep the reason to ${REASON_MAX_LENGTH} characters; it has ${reason.length}.`, 'reason');
  if (/\p{Cc}/u.test(reason)) throw new ValidationError('The reason cannot contain control characters.', 'reason');
  return reason;
}

/**
 * How a deleted person is shown in the audit log: the same name in every entry, so that the
 * organization's history keeps its shape, derived from the account's random id alone.
 */
export function pseudonymOf(userId: string): string {
  return `deleted user ${crypto.createHash('sha256').update(userId).digest('hex').slice(0, 8)}`;
}

/**
 * People leave (docs/rules.md, "People leave"): suspending an account, reactivating it, and deleting
 * it, once the caller has decided that the actor may (members.ts for owners, users.ts for site admins
 * and the operator). Each writes its audit entry with the reason and e-mails the person; suspension
 * and deletion end every session and tell the applications first.
 */
export class AccountLifecycle {
  constructor(
    private readonly store: Pick<Store, 'users' | 'memberships' | 'organizations' | 'erasure'>,
    private readonly signOuts: Pick<SignOuts, 'endSessions'>,
    private readonly secondFactors: Pick<SecondFactorService, 'forgetAllBrowsers'>,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly log: Logger,
  ) {}

  /**
   * Shuts the account out at once: it cannot sign in, and every session, grant, refresh token and
   * admin API token it has is revoked, the applications it signed in to told, its remembered browsers
   * forgotten. Its second factor, memberships and history stay for a reactivation.
   */
  async suspend(actor: Actor, user: User, rawReason: string | undefined, ip: string | null): Promise<void> {
    const reason = parseReason(rawReason, true)!;
    await this.#shutOut(user);
    await this.secondFactors.forgetAllBrowsers(user, 'the account was suspended', { actor, ip });
    this.log.info('account suspended', { userId: user.id, by: actor?.id ?? 'the operator' });
    await this.audit.recordForUser('account.suspended', user, { actor, ip, details: { reason } });
    await this.mailer.send({ to: user.email, message: 'account-suspended', locals: { actor: actorName(actor), reason } });
  }

  /** Lets a suspended account sign in again, as it was (with a new sign-in). */
  async reactivate(actor: Actor, user: User, rawReason: string | undefined, ip: string | null): Promise<void> {
    const reason = parseReason(rawReason, true)!;
    if (!(await this.store.users.reactivate(user.id))) throw new ConflictError(`${user.email} is not suspended.`);
    this.log.info('account reactivated', { userId: user.id, by: actor?.id ?? 'the operator' });
    await this.audit.recordForUser('account.reactivated', user, { actor, ip, details: { reason } });
    await this.mailer.send({ to: user.email, message: 'account-reactivated', locals: { actor: actorName(actor), reason } });
  }

  /**
   * Deletes the person's data (AccountErasureRepository lists it) after shutting the account out as a
   * suspension does; the audit entries stay under a pseudonym, and the address can be used again. The
   * deletion e-mail is the last message to that address. An organization's last owner is not deleted.
   */
  async delete(actor: Actor, user: User, input: DeletionInput, ip: string | null): Promise<void> {
    if (input.confirmEmail.trim().toLowerCase() !== user.email) {
      throw new ValidationError(`To delete this account, type its email address (${user.email}) exactly.`, 'confirmEmail');
    }
    const reason = parseReason(input.reason, false);
    for (const membership of (await this.store.memberships.listByUser(user.id)).filter((candidate) => candidate.role === 'owner')) {
      const owners = await this.store.memberships.listOwners([membership.organizationId]);
      if (!leavesAnOwner(owners.length, true, 'remove')) {
        const organization = await this.store.organizations.findById(membership.organizationId);
        throw new ConflictError(`${user.email} is the last owner of ${organization?.name ?? 'an organization'}. Make someone else an owner first.`);
      }
    }
    await this.#shutOut(user, { alreadySuspended: 'fine' });
    this.log.info('account deleted', { userId: user.id, by: actor?.id ?? 'the operator' });
    await this.audit.recordForUser('account.deleted', user, { actor, ip, details: reason ? { reason } : {} });
    await this.store.erasure.erase(user.id, pseudonymOf(user.id));
    await this.mailer.send({ to: user.email, message: 'account-deleted', locals: { actor: actorName(actor), reason } });
  }

  /** Suspends the account (never the last active site admin), then ends its sessions and tells the applications. */
  async #shutOut(user: User, { alreadySuspended = 'refuse' }: { alreadySuspended?: 'refuse' | 'fine' } = {}): Promise<void> {
    const outcome = await this.store.users.suspend(user.id, new Date());
    if (outcome === 'not-found') throw new NotFoundError('There is no such user.');
    if (outcome === 'last-site-admin') throw new ConflictError(`${user.email} is the last active site admin: without them nobody could run this site. Make another site admin first.`);
    if (outcome === 'already-suspended' && alreadySuspended === 'refuse') throw new ConflictError(`${user.email} is already suspended.`);
    await this.signOuts.endSessions(user.id);
  }
}
