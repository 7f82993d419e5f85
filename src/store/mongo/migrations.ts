import type { Collection } from './database.js';
import type { MembershipDoc } from './memberships.js';
import type { OidcDoc } from './oidc-models.js';
import type { OrganizationDoc } from './organizations.js';
import type { SettingDoc } from './settings.js';
import type { UserDoc } from './users.js';

const MANAGED_ACCOUNTS_MARKED = 'migration.managed-accounts';

/**
 * Once per database, the same data step as the embedded store's schema migration 5: accounts the
 * federation sign-in made, or the operator made for it — no password, no site-admin rights, one
 * membership, in a federated organization — become managed by that organization. Every other account
 * stays local. Idempotent, so processes starting together may all run it.
 */
export async function markManagedAccounts({ users, organizations, memberships, settings }: {
  users: Collection<UserDoc>;
  organizations: Collection<OrganizationDoc>;
  memberships: Collection<MembershipDoc>;
  settings: Collection<SettingDoc>;
}): Promise<void> {
  if (await settings.findOne({ _id: MANAGED_ACCOUNTS_MARKED }, { projection: { _id: 1 } })) return;
  const federated = await organizations.find({ federation: { $ne: null } }).project<Pick<OrganizationDoc, '_id'>>({ _id: 1 }).toArray();
  for (const organization of federated) {
    const members = await memberships.find({ organizationId: organization._id }).project<Pick<MembershipDoc, 'userId'>>({ userId: 1 }).toArray();
    for (const { userId } of members) {
      if ((await memberships.countDocuments({ userId })) !== 1) continue;
      await users.updateOne({ _id: userId, passwordHash: null, siteAdmin: { $ne: true }, managedBy: null }, { $set: { managedBy: organization._id } });
    }
  }
  await settings.updateOne({ _id: MANAGED_ACCOUNTS_MARKED }, { $set: { value: new Date().toISOString() } }, { upsert: true });
}

const CLIENT_IDS_BACKFILLED = 'migration.oidc-client-ids';

/**
 * Once per database, the same data step as the embedded store's schema migration 9: oidc-provider's
 * models saved before clients could be deleted get their client id beside the payload, so that
 * deleting a client finds everything issued to it. Idempotent.
 */
export async function backfillClientIds({ oidcModels, settings }: { oidcModels: Collection<OidcDoc>; settings: Collection<SettingDoc> }): Promise<void> {
  if (await settings.findOne({ _id: CLIENT_IDS_BACKFILLED }, { projection: { _id: 1 } })) return;
  for await (const doc of oidcModels.find({ clientId: { $exists: false } }).project<Pick<OidcDoc, '_id' | 'payload'>>({ payload: 1 })) {
    const { clientId } = JSON.parse(doc.payload) as { clientId?: unknown };
    await oidcModels.updateOne({ _id: doc._id, clientId: { $exists: false } }, { $set: { clientId: typeof clientId === 'string' ? clientId : null } });
  }
  await settings.updateOne({ _id: CLIENT_IDS_BACKFILLED }, { $set: { value: new Date().toISOString() } }, { upsert: true });
}
