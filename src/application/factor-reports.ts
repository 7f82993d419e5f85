import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import type { Store, User } from '../store/types.js';
import type { AccountLifecycle } from './account-lifecycle.js';
import type { AuditLog } from './audit-log.js';
import type { NotMeLinks, ReportedFactor } from './not-me-links.js';
import type { SecondFactorService } from './second-factors.js';
import type { SignOuts } from './sign-outs.js';

const EXPIRED = 'This link has expired or was already used. If someone else still uses your account, ask your organization\'s owner or IT team to suspend it.';

/** What the confirmation page names: the account and the factor the e-mail reported. */
export interface FactorReportPreview {
  readonly email: string;
  readonly factor: ReportedFactor;
}

/** What became of a report: the account is suspended, unless it is the last active site admin's. */
export interface FactorReportOutcome {
  readonly suspended: boolean;
  readonly ownersTold: number;
}

/**
 * "This wasn't me" (docs/rules.md, "The first set-up belongs to the person"): the person takes their
 * account back from whoever added a factor to it — the factor is removed, every session ends (the
 * applications are told), the account is suspended until an owner or site admin reactivates it, and
 * the owners of its organizations are e-mailed.
 */
export class FactorReports {
  constructor(
    private readonly store: Pick<Store, 'users' | 'memberships'>,
    private readonly links: NotMeLinks,
    private readonly secondFactors: Pick<SecondFactorService, 'removeReported'>,
    private readonly signOuts: Pick<SignOuts, 'endSessions'>,
    private readonly lifecycle: Pick<AccountLifecycle, 'suspend'>,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly log: Logger,
  ) {}

  async preview(token: string): Promise<FactorReportPreview> {
    const link = await this.links.find(token);
    const user = link ? await this.store.users.findById(link.userId) : null;
    if (!link || !user) throw new UserError(EXPIRED, 410, { href: '/account', label: 'Open your account page' });
    return { email: user.email, factor: link.factor };
  }

  async report(token: string, ip: string | null): Promise<FactorReportOutcome> {
    const link = await this.links.take(token);
    const user = link ? await this.store.users.findById(link.userId) : null;
    if (!link || !user) throw new UserError(EXPIRED, 410, { href: '/account', label: 'Open your account page' });
    await this.secondFactors.removeReported(user, link.factor, ip);
    await this.audit.recordForUser('second_factor.reported', user, { actor: user, ip, details: { factor: link.factor.kind } });
    this.log.warn('a person reported a second factor they did not add', { userId: user.id, factor: link.factor.kind });
    const suspended = await this.#suspend(user, ip);
    const ownersTold = await this.#tellOwners(user, link.factor);
    return { suspended, ownersTold };
  }

  /** Suspended by the person themselves; the last active site admin's account only loses its sessions. */
  async #suspend(user: User, ip: string | null): Promise<boolean> {
    try {
      await this.lifecycle.suspend(user, user, 'reported a sign-in method they did not add ("This wasn\'t me")', ip);
      return true;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await this.signOuts.endSessions(user.id);
      return false;
    }
  }

  async #tellOwners(user: User, factor: ReportedFactor): Promise<number> {
    const told = new Set<string>();
    const memberships = await this.store.memberships.listByUser(user.id);
    const owners = (await this.store.memberships.listOwners(memberships.map((membership) => membership.organizationId))).filter((owner) => owner.userId !== user.id);
    for (const owner of await this.store.users.findByIds([...new Set(owners.map((candidate) => candidate.userId))])) told.add(owner.email);
    for (const to of told) await this.mailer.send({ to, message: 'factor-reported', locals: { person: user.email, factor: factor.kind } });
    return told.size;
  }
}
