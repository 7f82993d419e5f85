import type { OrganizationFacts } from '../policy/second-factor.js';
import type { Membership, Organization } from '../store/types.js';

/** What the second-factor rules need to know of one organization a user belongs to, from what is stored. */
export function organizationFacts(organization: Organization, membership: Pick<Membership, 'role' | 'createdAt'>, managesAccount: boolean): OrganizationFacts {
  return {
    slug: organization.slug,
    forceTwoFactor: organization.forceTwoFactor,
    managesAccount,
    role: membership.role,
    applyTo: organization.applyTo,
    enforcementStartedAt: organization.enforcementStartedAt,
    joinedAt: membership.createdAt,
    gracePeriodDays: organization.gracePeriodDays,
    rememberBrowserDays: organization.rememberBrowserDays,
    requiredFactor: organization.requiredFactor,
    keysRequiredSince: organization.keysRequiredSince,
    confirmSetupByEmail: organization.confirmSetupByEmail,
  };
}
