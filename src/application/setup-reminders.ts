import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import { daysLeft, dueReminder } from '../policy/second-factor.js';
import type { Store } from '../store/types.js';
import type { SecondFactorService } from './second-factors.js';
import { isActive } from './account-status.js';

/**
 * The reminder e-mails before a setup deadline (docs/rules.md, "Rolling enforcement out"): 7 days and
 * 1 day before it, to members who still have no second factor. The worker loop calls `sendDue`; who
 * is due is worked out from the store each time, not kept in timers, so a restart loses none. Each
 * reminder is claimed in the store (one row per user, deadline and reminder) before it is queued, so
 * of several processes exactly one sends it, and only once.
 */
export class SetupReminders {
  constructor(
    private readonly store: Pick<Store, 'organizations' | 'memberships' | 'users' | 'secondFactors' | 'deadlineReminders'>,
    private readonly secondFactors: Pick<SecondFactorService, 'deadline'>,
    private readonly mailer: Mailer,
    private readonly log: Logger,
  ) {}

  /** Queues the reminders due at `now`; returns how many. */
  async sendDue(now = new Date()): Promise<number> {
    const withGrace = (await this.store.organizations.list()).filter((organization) => organization.forceTwoFactor && organization.gracePeriodDays > 0);
    const candidates = new Set<string>();
    for (const organization of withGrace) {
      for (const membership of await this.store.memberships.listByOrganization(organization.id)) {
        if (organization.applyTo === 'all' || membership.role === 'owner') candidates.add(membership.userId);
      }
    }
    const enrolled = await this.store.secondFactors.enrolledAmong([...candidates]);
    let sent = 0;
    // A suspended account is not reminded: it cannot sign in to set anything up.
    for (const user of (await this.store.users.findByIds([...candidates].filter((id) => !enrolled.has(id)))).filter(isActive)) {
      // The user's own deadline: the earliest of all their organizations, as the sign-in applies it.
      const deadline = await this.secondFactors.deadline(user);
      const reminder = deadline ? dueReminder(deadline, now) : null;
      if (!deadline || !reminder) continue;
      if (!(await this.store.deadlineReminders.claim(user.id, deadline, reminder, now))) continue;
      await this.mailer.send({
        to: user.email,
        message: 'setup-deadline-reminder',
        locals: { deadline: `${deadline.toISOString().slice(0, 10)} at ${deadline.toISOString().slice(11, 16)} UTC`, daysLeft: daysLeft(deadline, now) },
      });
      sent += 1;
    }
    if (sent > 0) this.log.info('queued setup deadline reminders', { sent });
    return sent;
  }
}
