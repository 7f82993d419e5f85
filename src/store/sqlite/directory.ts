import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import { isUniqueViolation } from './database.js';
import {
  DuplicateError,
  type Federation,
  type Membership,
  type MembershipRepository,
  type NewOrganization,
  type NewUser,
  type Organization,
  type OrganizationRepository,
  type Role,
  type User,
  type UserRepository,
} from '../types.js';

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  site_admin: number;
  managed_by: string | null;
  created_at: number;
  last_sign_in_at: number | null;
}

interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  force_two_factor: number;
  federation: string | null;
  created_at: number;
}

interface MembershipRow {
  organization_id: string;
  user_id: string;
  role: Role;
  created_at: number;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  name: row.name,
  passwordHash: row.password_hash,
  siteAdmin: row.site_admin === 1,
  managedBy: row.managed_by,
  createdAt: new Date(row.created_at),
  lastSignInAt: row.last_sign_in_at === null ? null : new Date(row.last_sign_in_at),
});

const federationOf = (json: string | null): Federation | null => {
  if (json === null) return null;
  const federation = JSON.parse(json) as Federation;
  return { ...federation, trustedForTwoFactor: federation.trustedForTwoFactor === true };
};

const toOrganization = (row: OrganizationRow): Organization => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  forceTwoFactor: row.force_two_factor === 1,
  federation: federationOf(row.federation),
  createdAt: new Date(row.created_at),
});

const toMembership = (row: MembershipRow): Membership => ({
  organizationId: row.organization_id,
  userId: row.user_id,
  role: row.role,
  createdAt: new Date(row.created_at),
});

export function sqliteUsers(db: SqliteDatabase): UserRepository {
  const insert = db.prepare('INSERT INTO users (id, email, name, password_hash, site_admin, managed_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
  const byEmail = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?');
  const setHash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?');
  // One statement for any number of ids: the ids travel as one JSON array parameter.
  const byIds = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?)) ORDER BY email');
  const search = db.prepare<[string, number], UserRow>("SELECT * FROM users WHERE instr(email, ?) > 0 ORDER BY email LIMIT ?");
  const setSignIn = db.prepare('UPDATE users SET last_sign_in_at = ? WHERE id = ?');
  const setManagedBy = db.prepare('UPDATE users SET managed_by = ?, password_hash = CASE WHEN ? IS NULL THEN password_hash ELSE NULL END WHERE id = ?');
  // An exact suffix comparison, not LIKE, so that no character of the domain acts as a wildcard.
  const atDomain = 'substr(email, length(email) - length(@suffix) + 1) = @suffix';
  const byDomain = db.prepare<[{ suffix: string; limit: number }], UserRow>(`SELECT * FROM users WHERE ${atDomain} ORDER BY email LIMIT @limit`);
  const countByDomain = db.prepare<[{ suffix: string }], { n: number }>(`SELECT COUNT(*) AS n FROM users WHERE ${atDomain}`);
  const countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users');

  const insertAll = db.transaction((users: readonly NewUser[]) => users.map((user) => {
    const id = crypto.randomUUID();
    insert.run(id, user.email.toLowerCase(), user.name, user.passwordHash, user.siteAdmin ? 1 : 0, user.managedBy ?? null, Date.now());
    return id;
  }));

  return {
    async create(user: NewUser) {
      return (await this.createMany([user]))[0]!;
    },
    async createMany(users) {
      let ids: string[];
      try {
        ids = insertAll.immediate(users);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateError('email');
        throw error;
      }
      return ids.map((id) => toUser(byId.get(id)!));
    },
    async findById(id) {
      const row = byId.get(id);
      return row ? toUser(row) : null;
    },
    async findByEmail(email) {
      const row = byEmail.get(email.toLowerCase());
      return row ? toUser(row) : null;
    },
    async findByIds(ids) {
      if (ids.length === 0) return [];
      return byIds.all(JSON.stringify(ids)).map(toUser);
    },
    async search(text, limit) {
      return search.all(text.trim().toLowerCase(), limit).map(toUser);
    },
    async updatePasswordHash(id, passwordHash) {
      setHash.run(passwordHash, id);
    },
    async setManagedBy(id, organizationId) {
      setManagedBy.run(organizationId, organizationId, id);
    },
    async listByEmailDomain(domain, limit) {
      const suffix = `@${domain.toLowerCase()}`;
      return { users: byDomain.all({ suffix, limit }).map(toUser), total: countByDomain.get({ suffix })!.n };
    },
    async recordSignIn(id, at) {
      setSignIn.run(at.getTime(), id);
    },
    async count() {
      return countAll.get()!.n;
    },
  };
}

export function sqliteOrganizations(db: SqliteDatabase): OrganizationRepository {
  const insert = db.prepare('INSERT INTO organizations (id, slug, name, created_at) VALUES (?, ?, ?, ?)');
  const byId = db.prepare<[string], OrganizationRow>('SELECT * FROM organizations WHERE id = ?');
  const bySlug = db.prepare<[string], OrganizationRow>('SELECT * FROM organizations WHERE slug = ?');
  const setForce = db.prepare('UPDATE organizations SET force_two_factor = ? WHERE id = ?');
  const all = db.prepare<[], OrganizationRow>('SELECT * FROM organizations ORDER BY slug');
  const byIds = db.prepare<[string], OrganizationRow>('SELECT * FROM organizations WHERE id IN (SELECT value FROM json_each(?)) ORDER BY slug');
  const setFederationRow = db.prepare('UPDATE organizations SET federation = ? WHERE id = ?');
  const clearDomains = db.prepare('DELETE FROM organization_domains WHERE organization_id = ?');
  const addDomain = db.prepare('INSERT INTO organization_domains (domain, organization_id) VALUES (?, ?)');
  const byDomain = db.prepare<[string], OrganizationRow>(
    'SELECT o.* FROM organizations o JOIN organization_domains d ON d.organization_id = o.id WHERE d.domain = ? AND o.federation IS NOT NULL',
  );
  const setFederation = db.transaction((id: string, federation: Federation | null) => {
    setFederationRow.run(federation === null ? null : JSON.stringify(federation), id);
    clearDomains.run(id);
    for (const domain of federation?.domains ?? []) addDomain.run(domain, id);
  });

  return {
    async create(organization: NewOrganization) {
      const id = crypto.randomUUID();
      try {
        insert.run(id, organization.slug, organization.name, Date.now());
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateError('slug');
        throw error;
      }
      return toOrganization(byId.get(id)!);
    },
    async findById(id) {
      const row = byId.get(id);
      return row ? toOrganization(row) : null;
    },
    async findBySlug(slug) {
      const row = bySlug.get(slug);
      return row ? toOrganization(row) : null;
    },
    async findByIds(ids) {
      if (ids.length === 0) return [];
      return byIds.all(JSON.stringify(ids)).map(toOrganization);
    },
    async setForceTwoFactor(id, on) {
      setForce.run(on ? 1 : 0, id);
    },
    async setFederation(id, federation) {
      try {
        setFederation.immediate(id, federation);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateError('domain');
        throw error;
      }
    },
    async findByFederatedDomain(domain) {
      const row = byDomain.get(domain.toLowerCase());
      return row ? toOrganization(row) : null;
    },
    async list() {
      return all.all().map(toOrganization);
    },
  };
}

export function sqliteMemberships(db: SqliteDatabase): MembershipRepository {
  const upsert = db.prepare(`
    INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role`);
  const one = db.prepare<[string, string], MembershipRow>('SELECT * FROM memberships WHERE organization_id = ? AND user_id = ?');
  const del = db.prepare('DELETE FROM memberships WHERE organization_id = ? AND user_id = ?');
  const byUser = db.prepare<[string], MembershipRow>('SELECT * FROM memberships WHERE user_id = ? ORDER BY created_at');
  const byOrganization = db.prepare<[string], MembershipRow>('SELECT * FROM memberships WHERE organization_id = ? ORDER BY created_at');

  const putAll = db.transaction((entries: Parameters<MembershipRepository['putMany']>[0]) => {
    for (const entry of entries) upsert.run(entry.organizationId, entry.userId, entry.role, Date.now());
  });
  return {
    async put(organizationId, userId, role) {
      upsert.run(organizationId, userId, role, Date.now());
      return toMembership(one.get(organizationId, userId)!);
    },
    async putMany(entries) {
      putAll.immediate(entries);
    },
    async remove(organizationId, userId) {
      return del.run(organizationId, userId).changes > 0;
    },
    async find(organizationId, userId) {
      const row = one.get(organizationId, userId);
      return row ? toMembership(row) : null;
    },
    async listByUser(userId) {
      return byUser.all(userId).map(toMembership);
    },
    async listByOrganization(organizationId) {
      return byOrganization.all(organizationId).map(toMembership);
    },
  };
}
