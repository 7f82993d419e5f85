import type { MemberRow } from '../../application/members.js';
import type { OrganizationOverview } from '../../application/organizations.js';
import type { AuditEvent, Client, Organization } from '../../application/types.js';
import type { UserListRow, UserProfile } from '../../application/users.js';

/** How the admin API writes Twofold's records as JSON: dates as ISO strings, never a secret. */

const iso = (date: Date | null) => date?.toISOString() ?? null;

export const policyJson = (organization: Organization) => ({
  forceTwoFactor: organization.forceTwoFactor,
  gracePeriodDays: organization.gracePeriodDays,
  rememberBrowserDays: organization.rememberBrowserDays,
  applyTo: organization.applyTo,
  requiredFactor: organization.requiredFactor,
  confirmSetupByEmail: organization.confirmSetupByEmail,
  enforcementStartedAt: iso(organization.enforcementStartedAt),
  keysRequiredSince: iso(organization.keysRequiredSince),
});

export const memberJson = (row: MemberRow) => ({
  userId: row.user.id,
  email: row.user.email,
  name: row.user.name,
  role: row.role,
  suspended: row.user.suspendedAt !== null,
  twoFactor: { enrolled: row.enrolled, strongestFactor: row.strongestFactor, recoveryCodesRemaining: row.recoveryCodesRemaining, securityKeys: row.securityKeys, deadline: iso(row.deadline), overdue: row.overdue },
  lastSignInAt: iso(row.user.lastSignInAt),
});

export const eventJson = (event: AuditEvent) => ({
  id: event.id,
  at: event.at.toISOString(),
  action: event.action,
  actor: event.actorId ? { id: event.actorId, email: event.actorEmail } : null,
  target: event.targetId ? { id: event.targetId, email: event.targetEmail } : null,
  ip: event.ip,
  details: event.details,
});

export const organizationJson = (organization: Organization) => ({
  slug: organization.slug,
  name: organization.name,
  forceTwoFactor: organization.forceTwoFactor,
  federated: organization.federation !== null,
  createdAt: organization.createdAt.toISOString(),
});

export const organizationOverviewJson = ({ organization, members, owners, adoption }: OrganizationOverview) => ({
  ...organizationJson(organization),
  members,
  owners,
  adoption,
});

export const applicationJson = (client: Client) => ({
  clientId: client.clientId,
  name: client.name,
  type: client.sealedSecret === null ? 'public' : 'confidential',
  firstParty: client.firstParty,
  redirectUris: client.redirectUris,
  postLogoutRedirectUris: client.postLogoutRedirectUris,
  backchannelLogoutUri: client.backchannelLogoutUri,
  /** While the secret before the last rotation still works; null otherwise. */
  previousSecretExpiresAt: client.previousSecretExpiresAt && client.previousSecretExpiresAt.getTime() > Date.now() ? client.previousSecretExpiresAt.toISOString() : null,
  createdAt: client.createdAt.toISOString(),
});

export const userJson = (row: UserListRow) => ({
  id: row.user.id,
  email: row.user.email,
  name: row.user.name,
  siteAdmin: row.user.siteAdmin,
  status: row.status,
  organizations: row.organizations.map(({ organization, role }) => ({ slug: organization.slug, name: organization.name, role })),
  factors: row.factors,
  lastSignInAt: iso(row.user.lastSignInAt),
});

export const userProfileJson = (profile: UserProfile) => ({
  id: profile.user.id,
  email: profile.user.email,
  name: profile.user.name,
  siteAdmin: profile.user.siteAdmin,
  status: profile.status,
  organizations: profile.organizations.map((organization) => ({ slug: organization.slug, name: organization.name })),
  managedBy: profile.managedBy?.slug ?? null,
  twoFactor: { enrolled: profile.enrolled, recoveryCodesRemaining: profile.recoveryCodesRemaining, securityKeys: profile.securityKeys },
  lastSignInAt: iso(profile.user.lastSignInAt),
  createdAt: profile.user.createdAt.toISOString(),
});
