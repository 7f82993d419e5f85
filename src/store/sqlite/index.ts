import type { Store } from '../types.js';
import { openDatabase } from './database.js';
import { sqliteAudit, sqliteInvitations } from './audit.js';
import { sqliteClients } from './clients.js';
import { sqliteIdentityLinks } from './identity-links.js';
import { sqliteMemberships, sqliteOrganizations, sqliteUsers } from './directory.js';
import { sqliteOidcModels } from './oidc-models.js';
import { sqliteAttempts, sqliteEnrollments, sqliteSecondFactors } from './second-factors.js';
import { sqliteKeys, sqliteSettings } from './settings.js';
import { sqliteMembershipInvitations } from './membership-invitations.js';

export function openSqliteStore(file: string): Store {
  const db = openDatabase(file);
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
    enrollments: sqliteEnrollments(db),
    attempts: sqliteAttempts(db),
    audit: sqliteAudit(db),
    invitations: sqliteInvitations(db),
    membershipInvitations: sqliteMembershipInvitations(db),
    identityLinks: sqliteIdentityLinks(db),
    async close() {
      db.close();
    },
  };
}
