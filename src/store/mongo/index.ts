import crypto from 'node:crypto';
import mongoose from 'mongoose';
import {
  DuplicateError,
  type Client,
  type Federation,
  type Membership,
  type OidcPayload,
  type Organization,
  type Role,
  type Store,
  type User,
} from '../types.js';
import { keptGrantIds } from '../kept-grants.js';
import { mongoAudit, mongoInvitations, type AuditDoc, type InvitationDoc } from './audit.js';
import { mongoMembershipInvitations, type MembershipInvitationDoc } from './membership-invitations.js';
import { mongoAttempts, mongoEnrollments, mongoSecondFactors, type AttemptDoc, type EnrollmentDoc, type SecondFactorDoc } from './second-factors.js';
import {
  attemptSchema,
  auditSchema,
  identityLinkSchema,
  invitationSchema,
  clientSchema,
  enrollmentSchema,
  secondFactorSchema,
  isDuplicateKey,
  keySchema,
  membershipInvitationSchema,
  membershipSchema,
  oidcModelSchema,
  organizationSchema,
  settingSchema,
  userSchema,
} from './schemas.js';

interface UserDoc { _id: string; email: string; name: string; passwordHash: string | null; siteAdmin: boolean; managedBy?: string | null; createdAt: Date; lastSignInAt: Date | null }
interface OrganizationDoc { _id: string; slug: string; name: string; forceTwoFactor: boolean; federation: Federation | null; federatedDomains?: string[]; createdAt: Date }
interface MembershipDoc { organizationId: string; userId: string; role: Role; createdAt: Date }
interface ClientDoc { _id: string; name: string; sealedSecret: string | null; redirectUris: string[]; postLogoutRedirectUris: string[]; firstParty: boolean; createdAt: Date }
/**
 * The payload is kept as JSON text: oidc-provider's payloads can have keys with dots (resource
 * indicator URLs), which MongoDB before 5.0 and compatible servers refuse. `consumed` lives beside it
 * so that spending a code stays one conditional update.
 */
interface OidcDoc { _id: string; model: string; payload: string; consumed: number | null; grantId: string | null; uid: string | null; userCode: string | null; accountId: string | null; expiresAt: Date | null }

const payloadOf = (doc: OidcDoc | null): OidcPayload | null => {
  if (!doc) return null;
  const payload = JSON.parse(doc.payload) as OidcPayload;
  return doc.consumed === null || doc.consumed === undefined ? payload : { ...payload, consumed: doc.consumed };
};

const toUser = (doc: UserDoc): User => ({
  id: doc._id,
  email: doc.email,
  name: doc.name,
  passwordHash: doc.passwordHash ?? null,
  siteAdmin: doc.siteAdmin === true,
  managedBy: doc.managedBy ?? null,
  createdAt: doc.createdAt,
  lastSignInAt: doc.lastSignInAt ?? null,
});
const toOrganization = (doc: OrganizationDoc): Organization => ({
  id: doc._id,
  slug: doc.slug,
  name: doc.name,
  forceTwoFactor: doc.forceTwoFactor === true,
  federation: doc.federation ? { ...doc.federation, trustedForTwoFactor: doc.federation.trustedForTwoFactor === true } : null,
  createdAt: doc.createdAt,
});
const toMembership = (doc: MembershipDoc): Membership => ({
  organizationId: doc.organizationId,
  userId: doc.userId,
  role: doc.role,
  createdAt: doc.createdAt,
});
const toClient = (doc: ClientDoc): Client => ({
  clientId: doc._id,
  name: doc.name,
  sealedSecret: doc.sealedSecret ?? null,
  redirectUris: doc.redirectUris,
  postLogoutRedirectUris: doc.postLogoutRedirectUris ?? [],
  firstParty: doc.firstParty === true,
  createdAt: doc.createdAt,
});

const oidcKey = (model: string, id: string) => `${model}:${id}`;
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const live = () => ({ $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] });

async function insertUnique<T>(field: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if (isDuplicateKey(error)) throw new DuplicateError(field);
    throw error;
  }
}

const MANAGED_ACCOUNTS_MARKED = 'migration.managed-accounts';

/**
 * Once per database, the same data step as the embedded store's schema migration 5: accounts the
 * federation sign-in made, or the operator made for it — no password, no site-admin rights, one
 * membership, in a federated organization — become managed by that organization. Every other account
 * stays local. Idempotent, so processes starting together may all run it.
 */
async function markManagedAccounts(
  Users: mongoose.Model<UserDoc>,
  Organizations: mongoose.Model<OrganizationDoc>,
  Memberships: mongoose.Model<MembershipDoc>,
  Settings: mongoose.Model<{ _id: string; value: string }>,
): Promise<void> {
  if (await Settings.exists({ _id: MANAGED_ACCOUNTS_MARKED })) return;
  for (const organization of await Organizations.find({ federation: { $ne: null } }, { _id: 1 }).lean<Pick<OrganizationDoc, '_id'>[]>()) {
    const members = await Memberships.find({ organizationId: organization._id }, { userId: 1 }).lean<Pick<MembershipDoc, 'userId'>[]>();
    for (const { userId } of members) {
      if ((await Memberships.countDocuments({ userId })) !== 1) continue;
      await Users.updateOne({ _id: userId, passwordHash: null, siteAdmin: { $ne: true }, managedBy: null }, { $set: { managedBy: organization._id } });
    }
  }
  await Settings.updateOne({ _id: MANAGED_ACCOUNTS_MARKED }, { $set: { value: new Date().toISOString() } }, { upsert: true });
}

/**
 * The production store: MongoDB through mongoose, shared by several Twofold processes. Connecting
 * fails within `serverSelectionTimeoutMS` with one clear error instead of buffering commands.
 */
export async function openMongoStore(uri: string, { serverSelectionTimeoutMS = 5000 } = {}): Promise<Store> {
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS, bufferCommands: false, autoIndex: false });
  try {
    await connection.asPromise();
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw new Error(`Cannot reach MongoDB at MONGODB_URI within ${serverSelectionTimeoutMS} ms: ${(error as Error).message}`);
  }

  const Users = connection.model<UserDoc>('User', userSchema);
  const Organizations = connection.model<OrganizationDoc>('Organization', organizationSchema);
  const Memberships = connection.model<MembershipDoc>('Membership', membershipSchema);
  const Clients = connection.model<ClientDoc>('Client', clientSchema);
  const Settings = connection.model<{ _id: string; value: string }>('Setting', settingSchema);
  const Keys = connection.model('Key', keySchema);
  const OidcModels = connection.model<OidcDoc>('OidcModel', oidcModelSchema);
  const SecondFactors = connection.model<SecondFactorDoc>('SecondFactor', secondFactorSchema);
  const Enrollments = connection.model<EnrollmentDoc>('PendingEnrollment', enrollmentSchema);
  const Attempts = connection.model<AttemptDoc>('Attempt', attemptSchema);
  const AuditEvents = connection.model<AuditDoc>('AuditEvent', auditSchema);
  const Invitations = connection.model<InvitationDoc>('Invitation', invitationSchema);
  const IdentityLinks = connection.model('IdentityLink', identityLinkSchema);
  const MembershipInvitations = connection.model<MembershipInvitationDoc>('MembershipInvitation', membershipInvitationSchema);
  const models = [Users, Organizations, Memberships, Clients, Settings, Keys, OidcModels, SecondFactors, Enrollments, Attempts, AuditEvents, Invitations, IdentityLinks, MembershipInvitations];
  for (const model of models) {
    await model.createCollection().catch((error: { codeName?: string }) => {
      if (error.codeName !== 'NamespaceExists') throw error;
    });
    await model.createIndexes();
  }
  await markManagedAccounts(Users, Organizations, Memberships, Settings);

  return {
    kind: 'mongodb',
    users: {
      async create(user) {
        return (await this.createMany([user]))[0]!;
      },
      async createMany(users) {
        const docs: UserDoc[] = users.map((user) => ({
          _id: crypto.randomUUID(),
          email: user.email.toLowerCase(),
          name: user.name,
          passwordHash: user.passwordHash,
          siteAdmin: user.siteAdmin,
          managedBy: user.managedBy ?? null,
          createdAt: new Date(),
          lastSignInAt: null,
        }));
        if (docs.length === 0) return [];
        try {
          await Users.collection.insertMany(docs as never[], { ordered: true });
        } catch (error) {
          // No multi-document transaction without a replica set: undo the part of the batch that got in.
          await Users.collection.deleteMany({ _id: { $in: docs.map((doc) => doc._id) } } as never);
          if (isDuplicateKey(error)) throw new DuplicateError('email');
          throw error;
        }
        return docs.map(toUser);
      },
      async findById(id) {
        const doc = await Users.findById(id).lean<UserDoc>();
        return doc ? toUser(doc) : null;
      },
      async findByEmail(email) {
        const doc = await Users.findOne({ email: email.toLowerCase() }).lean<UserDoc>();
        return doc ? toUser(doc) : null;
      },
      async findByIds(ids) {
        if (ids.length === 0) return [];
        const docs = await Users.find({ _id: { $in: ids } }).sort({ email: 1 }).lean<UserDoc[]>();
        return docs.map(toUser);
      },
      async search(text, limit) {
        const docs = await Users.find({ email: { $regex: escapeRegex(text.trim().toLowerCase()) } }).sort({ email: 1 }).limit(limit).lean<UserDoc[]>();
        return docs.map(toUser);
      },
      async updatePasswordHash(id, passwordHash) {
        await Users.updateOne({ _id: id }, { $set: { passwordHash } });
      },
      async setManagedBy(id, organizationId) {
        await Users.updateOne({ _id: id }, { $set: organizationId === null ? { managedBy: null } : { managedBy: organizationId, passwordHash: null } });
      },
      async listByEmailDomain(domain, limit) {
        const filter = { email: { $regex: `@${escapeRegex(domain.toLowerCase())}$` } };
        const [docs, total] = await Promise.all([
          Users.find(filter).sort({ email: 1 }).limit(limit).lean<UserDoc[]>(),
          Users.countDocuments(filter),
        ]);
        return { users: docs.map(toUser), total };
      },
      async recordSignIn(id, at) {
        await Users.updateOne({ _id: id }, { $set: { lastSignInAt: at } });
      },
      async count() {
        return Users.estimatedDocumentCount();
      },
    },
    organizations: {
      async create(organization) {
        const doc: OrganizationDoc = {
          _id: crypto.randomUUID(),
          slug: organization.slug,
          name: organization.name,
          forceTwoFactor: false,
          federation: null,
          createdAt: new Date(),
        };
        await insertUnique('slug', () => Organizations.collection.insertOne(doc as never));
        return toOrganization(doc);
      },
      async findById(id) {
        const doc = await Organizations.findById(id).lean<OrganizationDoc>();
        return doc ? toOrganization(doc) : null;
      },
      async findBySlug(slug) {
        const doc = await Organizations.findOne({ slug }).lean<OrganizationDoc>();
        return doc ? toOrganization(doc) : null;
      },
      async findByIds(ids) {
        if (ids.length === 0) return [];
        const docs = await Organizations.find({ _id: { $in: ids } }).sort({ slug: 1 }).lean<OrganizationDoc[]>();
        return docs.map(toOrganization);
      },
      async setForceTwoFactor(id, on) {
        await Organizations.updateOne({ _id: id }, { $set: { forceTwoFactor: on } });
      },
      async setFederation(id, federation) {
        const update = federation && federation.domains.length > 0
          ? { $set: { federation, federatedDomains: [...federation.domains] } }
          : { $set: { federation }, $unset: { federatedDomains: '' } };
        try {
          await Organizations.collection.updateOne({ _id: id } as never, update as never);
        } catch (error) {
          if (isDuplicateKey(error)) throw new DuplicateError('domain');
          throw error;
        }
      },
      async findByFederatedDomain(domain) {
        const doc = await Organizations.findOne({ federatedDomains: domain.toLowerCase(), federation: { $ne: null } }).lean<OrganizationDoc>();
        return doc ? toOrganization(doc) : null;
      },
      async list() {
        const docs = await Organizations.find().sort({ slug: 1 }).lean<OrganizationDoc[]>();
        return docs.map(toOrganization);
      },
    },
    memberships: {
      async put(organizationId, userId, role) {
        const doc = await Memberships.findOneAndUpdate(
          { organizationId, userId },
          { $set: { role }, $setOnInsert: { createdAt: new Date() } },
          { upsert: true, returnDocument: 'after' },
        ).lean<MembershipDoc>();
        return toMembership(doc!);
      },
      async putMany(entries) {
        if (entries.length === 0) return;
        const now = new Date();
        await Memberships.collection.bulkWrite(entries.map(({ organizationId, userId, role }) => ({
          updateOne: { filter: { organizationId, userId }, update: { $set: { role }, $setOnInsert: { createdAt: now } }, upsert: true },
        })), { ordered: false });
      },
      async remove(organizationId, userId) {
        const result = await Memberships.deleteOne({ organizationId, userId });
        return result.deletedCount === 1;
      },
      async find(organizationId, userId) {
        const doc = await Memberships.findOne({ organizationId, userId }).lean<MembershipDoc>();
        return doc ? toMembership(doc) : null;
      },
      async listByUser(userId) {
        const docs = await Memberships.find({ userId }).sort({ createdAt: 1 }).lean<MembershipDoc[]>();
        return docs.map(toMembership);
      },
      async listByOrganization(organizationId) {
        const docs = await Memberships.find({ organizationId }).sort({ createdAt: 1 }).lean<MembershipDoc[]>();
        return docs.map(toMembership);
      },
    },
    clients: {
      async create(client) {
        const doc: ClientDoc = {
          _id: client.clientId,
          name: client.name,
          sealedSecret: client.sealedSecret,
          redirectUris: [...client.redirectUris],
          postLogoutRedirectUris: [...client.postLogoutRedirectUris],
          firstParty: client.firstParty,
          createdAt: new Date(),
        };
        await insertUnique('clientId', () => Clients.collection.insertOne(doc as never));
        return toClient(doc);
      },
      async find(clientId) {
        const doc = await Clients.findById(clientId).lean<ClientDoc>();
        return doc ? toClient(doc) : null;
      },
      async list() {
        const docs = await Clients.find().sort({ _id: 1 }).lean<ClientDoc[]>();
        return docs.map(toClient);
      },
    },
    settings: {
      async get(key) {
        const doc = await Settings.findById(key).lean<{ value: string }>();
        return doc?.value ?? null;
      },
      async set(key, value) {
        await Settings.updateOne({ _id: key }, { $set: { value } }, { upsert: true });
      },
    },
    keys: {
      async getOrCreate(name, create) {
        const existing = await Keys.findById(name).lean<{ value: string }>();
        if (existing) return existing.value;
        try {
          await Keys.collection.insertOne({ _id: name, value: create() } as never);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
        const winner = await Keys.findById(name).lean<{ value: string }>();
        return winner!.value;
      },
    },
    oidc: {
      async upsert(model, id, payload, expiresAt) {
        await OidcModels.collection.replaceOne(
          { _id: oidcKey(model, id) } as never,
          {
            model,
            payload: JSON.stringify(payload),
            consumed: typeof payload.consumed === 'number' ? payload.consumed : null,
            grantId: payload.grantId ?? null,
            uid: payload.uid ?? null,
            userCode: payload.userCode ?? null,
            accountId: typeof payload.accountId === 'string' ? payload.accountId : null,
            expiresAt,
          },
          { upsert: true },
        );
      },
      async find(model, id) {
        return payloadOf(await OidcModels.findOne({ _id: oidcKey(model, id), ...live() }).lean<OidcDoc>());
      },
      async findByUid(model, uid) {
        return payloadOf(await OidcModels.findOne({ model, uid, ...live() }).lean<OidcDoc>());
      },
      async findByUserCode(model, userCode) {
        return payloadOf(await OidcModels.findOne({ model, userCode, ...live() }).lean<OidcDoc>());
      },
      async consume(model, id) {
        const result = await OidcModels.updateOne(
          { _id: oidcKey(model, id), consumed: null },
          { $set: { consumed: Math.floor(Date.now() / 1000) } },
        );
        return result.modifiedCount === 1;
      },
      async destroy(model, id) {
        await OidcModels.deleteOne({ _id: oidcKey(model, id) });
      },
      async revokeByGrantId(model, grantId) {
        await OidcModels.deleteMany({ model, grantId });
      },
      async purgeExpired(now = new Date()) {
        const result = await OidcModels.deleteMany({ expiresAt: { $ne: null, $lte: now } });
        return result.deletedCount;
      },
      async endSessionsOf(accountId, exceptSessionId) {
        const kept = exceptSessionId ? await OidcModels.findOne({ _id: oidcKey('Session', exceptSessionId) }).lean<OidcDoc>() : null;
        const keptGrants = keptGrantIds(payloadOf(kept));
        const rows = await OidcModels.find({ accountId }, { model: 1, grantId: 1 }).lean<OidcDoc[]>();
        const doomed = rows.filter((row) => {
          if (row._id === oidcKey('Session', exceptSessionId ?? '')) return false;
          if (row.grantId && keptGrants.has(row.grantId)) return false;
          return !(row.model === 'Grant' && keptGrants.has(row._id.slice('Grant:'.length)));
        });
        await OidcModels.deleteMany({ _id: { $in: doomed.map((row) => row._id) } });
        return doomed.filter((row) => row.model === 'Session').length;
      },
    },
    secondFactors: mongoSecondFactors(SecondFactors.collection as never),
    enrollments: mongoEnrollments(Enrollments.collection as never),
    attempts: mongoAttempts(Attempts.collection as never),
    audit: mongoAudit(AuditEvents.collection as never),
    invitations: mongoInvitations(Invitations.collection as never),
    membershipInvitations: mongoMembershipInvitations(MembershipInvitations.collection as never),
    identityLinks: {
      async findUser(issuer, subject) {
        const doc = await IdentityLinks.findOne({ issuer, subject }).lean<{ userId: string }>();
        return doc?.userId ?? null;
      },
      async link(issuer, subject, userId) {
        await insertUnique('identity link', () => IdentityLinks.collection.insertOne({ issuer, subject, userId, createdAt: new Date() }));
      },
    },
    async close() {
      await connection.close();
    },
  };
}
