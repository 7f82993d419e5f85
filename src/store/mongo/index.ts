import mongoose from 'mongoose';
import type { Store } from '../types.js';
import { connect, openCollection } from './database.js';
import { backfillClientIds, markManagedAccounts } from './migrations.js';
import { adoptionSchema, mongoAdoption } from './adoption.js';
import { attemptSchema, mongoAttempts } from './attempts.js';
import { auditSchema, mongoAudit } from './audit.js';
import { clientSchema, mongoClients } from './clients.js';
import { deadlineReminderSchema, mongoDeadlineReminders } from './deadline-reminders.js';
import { enrollmentSchema, mongoEnrollments } from './enrollments.js';
import { mongoErasure } from './erasure.js';
import { identityLinkSchema, mongoIdentityLinks } from './identity-links.js';
import { invitationSchema, mongoInvitations } from './invitations.js';
import { keySchema, mongoKeys } from './keys.js';
import { logoutNoticeSchema, mongoLogoutNotices } from './logout-notices.js';
import { membershipInvitationSchema, mongoMembershipInvitations } from './membership-invitations.js';
import { membershipSchema, mongoMemberships } from './memberships.js';
import { mongoOidcModels, oidcModelSchema } from './oidc-models.js';
import { mongoOrganizations, organizationSchema } from './organizations.js';
import { mongoOutbox, outboxSchema } from './outbox.js';
import { mongoRememberedBrowsers, rememberedBrowserSchema } from './remembered-browsers.js';
import { mongoSecondFactors, secondFactorSchema } from './second-factors.js';
import { mongoSecurityKeys, securityKeySchema } from './security-keys.js';
import { mongoSettings, settingSchema } from './settings.js';
import { mongoUsers, userSchema } from './users.js';

/**
 * The production store: MongoDB, shared by several Twofold processes. Start-up creates every
 * collection and index that is missing, then runs the data steps of earlier versions.
 */
export async function openMongoStore(uri: string, { serverSelectionTimeoutMS = 5000 } = {}): Promise<Store> {
  const connection = await connect(uri, serverSelectionTimeoutMS);
  const users = await openCollection(connection, 'User', userSchema);
  const organizations = await openCollection(connection, 'Organization', organizationSchema);
  const memberships = await openCollection(connection, 'Membership', membershipSchema);
  const clients = await openCollection(connection, 'Client', clientSchema);
  const settings = await openCollection(connection, 'Setting', settingSchema);
  const keys = await openCollection(connection, 'Key', keySchema);
  const oidcModels = await openCollection(connection, 'OidcModel', oidcModelSchema);
  const secondFactors = await openCollection(connection, 'SecondFactor', secondFactorSchema);
  const securityKeys = await openCollection(connection, 'SecurityKey', securityKeySchema);
  const enrollments = await openCollection(connection, 'PendingEnrollment', enrollmentSchema);
  const attempts = await openCollection(connection, 'Attempt', attemptSchema);
  const auditEvents = await openCollection(connection, 'AuditEvent', auditSchema);
  const invitations = await openCollection(connection, 'Invitation', invitationSchema);
  const identityLinks = await openCollection(connection, 'IdentityLink', identityLinkSchema);
  const membershipInvitations = await openCollection(connection, 'MembershipInvitation', membershipInvitationSchema);
  const outbox = await openCollection(connection, 'OutboxMessage', outboxSchema);
  const rememberedBrowsers = await openCollection(connection, 'RememberedBrowser', rememberedBrowserSchema);
  const deadlineReminders = await openCollection(connection, 'DeadlineReminder', deadlineReminderSchema);
  const adoption = await openCollection(connection, 'AdoptionSnapshot', adoptionSchema);
  const logoutNotices = await openCollection(connection, 'LogoutNotice', logoutNoticeSchema);
  await markManagedAccounts({ users, organizations, memberships, settings });
  await backfillClientIds({ oidcModels, settings });

  return {
    kind: 'mongodb',
    users: mongoUsers(users),
    organizations: mongoOrganizations(organizations, { memberships, membershipInvitations, adoption, users }),
    memberships: mongoMemberships(memberships),
    clients: mongoClients(clients),
    settings: mongoSettings(settings),
    keys: mongoKeys(keys),
    oidc: mongoOidcModels(oidcModels),
    secondFactors: mongoSecondFactors(secondFactors, securityKeys),
    securityKeys: mongoSecurityKeys(securityKeys, secondFactors),
    enrollments: mongoEnrollments(enrollments),
    attempts: mongoAttempts(attempts),
    audit: mongoAudit(auditEvents),
    invitations: mongoInvitations(invitations),
    membershipInvitations: mongoMembershipInvitations(membershipInvitations),
    identityLinks: mongoIdentityLinks(identityLinks),
    outbox: mongoOutbox(outbox),
    rememberedBrowsers: mongoRememberedBrowsers(rememberedBrowsers),
    deadlineReminders: mongoDeadlineReminders(deadlineReminders),
    adoption: mongoAdoption(adoption),
    erasure: mongoErasure({
      users, memberships, membershipInvitations, invitations, identityLinks, rememberedBrowsers, deadlineReminders,
      secondFactors, securityKeys, enrollments, oidcModels, outbox, auditEvents,
    }),
    logoutNotices: mongoLogoutNotices(logoutNotices),
    async ping() {
      // A closed client would connect again for the command: refuse before asking.
      if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) throw new Error('The MongoDB connection is closed.');
      await connection.db.command({ ping: 1 });
    },
    flush() {},
    async close() {
      await connection.close();
    },
  };
}
