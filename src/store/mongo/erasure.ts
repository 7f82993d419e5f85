import { pseudonymizedDetails } from '../pseudonymized-details.js';
import type { AccountErasureRepository } from '../types.js';
import type { AuditDoc } from './audit.js';
import type { Collection } from './database.js';
import type { DeadlineReminderDoc } from './deadline-reminders.js';
import type { EnrollmentDoc } from './enrollments.js';
import type { IdentityLinkDoc } from './identity-links.js';
import type { InvitationDoc } from './invitations.js';
import type { MembershipInvitationDoc } from './membership-invitations.js';
import type { MembershipDoc } from './memberships.js';
import type { OidcDoc } from './oidc-models.js';
import type { OutboxDoc } from './outbox.js';
import type { RememberedBrowserDoc } from './remembered-browsers.js';
import type { SecondFactorDoc } from './second-factors.js';
import type { SecurityKeyDoc } from './security-keys.js';
import type { UserDoc } from './users.js';

export interface ErasureCollections {
  readonly users: Collection<UserDoc>;
  readonly memberships: Collection<MembershipDoc>;
  readonly membershipInvitations: Collection<MembershipInvitationDoc>;
  readonly invitations: Collection<InvitationDoc>;
  readonly identityLinks: Collection<IdentityLinkDoc>;
  readonly rememberedBrowsers: Collection<RememberedBrowserDoc>;
  readonly deadlineReminders: Collection<DeadlineReminderDoc>;
  readonly secondFactors: Collection<SecondFactorDoc>;
  readonly securityKeys: Collection<SecurityKeyDoc>;
  readonly enrollments: Collection<EnrollmentDoc>;
  readonly oidcModels: Collection<OidcDoc>;
  readonly outbox: Collection<OutboxDoc>;
  readonly auditEvents: Collection<AuditDoc>;
}

/**
 * No multi-document transaction: one collection after the other, each step idempotent, and the
 * user document last — so an erasure that stopped part-way still finds the account and is completed
 * by erasing again.
 */
export function mongoErasure(collections: ErasureCollections): AccountErasureRepository {
  const { users, auditEvents } = collections;
  return {
    async erase(userId, pseudonym) {
      const user = await users.findOne({ _id: userId }, { projection: { email: 1 } });
      if (!user) return false;
      const entries = await auditEvents.find({ $or: [{ actorId: userId }, { targetId: userId }] }).project<Pick<AuditDoc, '_id' | 'actorId' | 'targetId' | 'details'>>({ actorId: 1, targetId: 1, details: 1 }).toArray();
      for (const entry of entries) {
        await auditEvents.updateOne({ _id: entry._id }, {
          $set: {
            ...(entry.actorId === userId ? { actorEmail: pseudonym } : {}),
            ...(entry.targetId === userId ? { targetEmail: pseudonym } : {}),
            details: pseudonymizedDetails(entry.details, user.email, pseudonym),
          },
        });
      }
      await Promise.all([
        collections.memberships.deleteMany({ userId }),
        collections.membershipInvitations.deleteMany({ userId }),
        collections.invitations.deleteMany({ userId }),
        collections.identityLinks.deleteMany({ userId }),
        collections.rememberedBrowsers.deleteMany({ userId }),
        collections.deadlineReminders.deleteMany({ userId }),
        collections.securityKeys.deleteMany({ userId }),
        collections.secondFactors.deleteMany({ _id: userId }),
        collections.enrollments.deleteMany({ userId }),
        collections.oidcModels.deleteMany({ accountId: userId }),
        collections.outbox.deleteMany({ to: user.email }),
      ]);
      await users.deleteOne({ _id: userId });
      return true;
    },
  };
}
