import type { Store } from '../types.js';
import { openDatabase, type DatabaseOptions } from './database.js';
import { sqliteAdoption } from './adoption.js';
import { sqliteAttempts } from './attempts.js';
import { sqliteAudit } from './audit.js';
import { sqliteClients } from './clients.js';
import { sqliteDeadlineReminders } from './deadline-reminders.js';
import { sqliteEnrollments } from './enrollments.js';
import { sqliteErasure } from './erasure.js';
import { sqliteIdentityLinks } from './identity-links.js';
import { sqliteInvitations } from './invitations.js';
import { sqliteKeys } from './keys.js';
import { sqliteLogoutNotices } from './logout-notices.js';
import { sqliteMembershipInvitations } from './membership-invitations.js';
import { sqliteMemberships } from './memberships.js';
import { sqliteOidcModels } from './oidc-models.js';
import { sqliteOrganizations } from './organizations.js';
import { sqliteOutbox } from './outbox.js';
import { sqliteRememberedBrowsers } from './remembered-browsers.js';
import { sqliteSecondFactors } from './second-factors.js';
import { sqliteSecurityKeys } from './security-keys.js';
import { sqliteSettings } from './settings.js';
import { sqliteUsers } from './users.js';

export function openSqliteStore(file: string, options: DatabaseOptions = {}): Store {
  const { db, checkpoints } = openDatabase(file, options);
  const ping = db.prepare('SELECT 1');
  return {
    kind: 'sqlite',
    users: sqliteUsers(db),
    organizations: sqliteOrganizations(db),
    memberships: sqliteMemberships(db),
    clients: sqliteClients(db),
    settings: sqliteSettings(db),
    keys: sqliteKeys(db),
    oidc: sqliteOidcModels(db),
    secondFactors: sqliteSecondFactors(db),
    securityKeys: sqliteSecurityKeys(db),
    enrollments: sqliteEnrollments(db),
    attempts: sqliteAttempts(db),
    audit: sqliteAudit(db),
    invitations: sqliteInvitations(db),
    membershipInvitations: sqliteMembershipInvitations(db),
    identityLinks: sqliteIdentityLinks(db),
    outbox: sqliteOutbox(db),
    rememberedBrowsers: sqliteRememberedBrowsers(db),
    deadlineReminders: sqliteDeadlineReminders(db),
    adoption: sqliteAdoption(db),
    erasure: sqliteErasure(db),
    logoutNotices: sqliteLogoutNotices(db),
    async ping() {
      // Throws once the database is closed.
      ping.get();
    },
    flush() {
      db.commit();
    },
    async close() {
      await checkpoints?.stop();
      db.close();
    },
  };
}
