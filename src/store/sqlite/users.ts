import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import { isUniqueViolation } from './database.js';
import { DuplicateError, type NewUser, type User, type UserRepository } from '../types.js';

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  site_admin: number;
  managed_by: string | null;
  created_at: number;
  last_sign_in_at: number | null;
  suspended_at: number | null;
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
  suspendedAt: row.suspended_at === null ? null : new Date(row.suspended_at),
});

export function sqliteUsers(db: SqliteDatabase): UserRepository {
  const insert = db.prepare('INSERT INTO users (id, email, name, password_hash, site_admin, managed_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
  const byEmail = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?');
  const setHash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?');
  // One statement for any number of ids: the ids travel as one JSON array parameter.
  const byIds = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?)) ORDER BY email');
  // instr, not LIKE, so that no character typed acts as a wildcard. lower() folds ASCII letters only.
  const matching = 'instr(email, @text) > 0 OR instr(lower(name), @text) > 0';
  const search = db.prepare<[{ text: string; limit: number; offset: number }], UserRow>(`SELECT * FROM users WHERE ${matching} ORDER BY email LIMIT @limit OFFSET @offset`);
  const countMatching = db.prepare<[{ text: string }], { n: number }>(`SELECT COUNT(*) AS n FROM users WHERE ${matching}`);
  const managedBy = db.prepare<[string], UserRow>('SELECT * FROM users WHERE managed_by = ? ORDER BY email');
  const setSignIn = db.prepare('UPDATE users SET last_sign_in_at = ? WHERE id = ?');
  const setManagedBy = db.prepare('UPDATE users SET managed_by = ?, password_hash = CASE WHEN ? IS NULL THEN password_hash ELSE NULL END WHERE id = ?');
  // An exact suffix comparison, not LIKE, so that no character of the domain acts as a wildcard.
  const atDomain = 'substr(email, length(email) - length(@suffix) + 1) = @suffix';
  const byDomain = db.prepare<[{ suffix: string; limit: number }], UserRow>(`SELECT * FROM users WHERE ${atDomain} ORDER BY email LIMIT @limit`);
  const countByDomain = db.prepare<[{ suffix: string }], { n: number }>(`SELECT COUNT(*) AS n FROM users WHERE ${atDomain}`);
  const countAll = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users');
  // One statement: the count of the other active site admins is read under the same write lock.
  const suspend = db.prepare<[{ id: string; at: number }]>(`UPDATE users SET suspended_at = @at
    WHERE id = @id AND suspended_at IS NULL
      AND (site_admin = 0 OR EXISTS (SELECT 1 FROM users other WHERE other.site_admin = 1 AND other.suspended_at IS NULL AND other.id <> @id))`);
  const reactivate = db.prepare('UPDATE users SET suspended_at = NULL WHERE id = ? AND suspended_at IS NOT NULL');

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
    async search(text, { limit, offset }) {
      const lowered = text.trim().toLowerCase();
      return { users: search.all({ text: lowered, limit, offset }).map(toUser), total: countMatching.get({ text: lowered })!.n };
    },
    async listManagedBy(organizationId) {
      return managedBy.all(organizationId).map(toUser);
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
    async suspend(id, at) {
      if (suspend.run({ id, at: at.getTime() }).changes === 1) return 'suspended';
      const row = byId.get(id);
      if (!row) return 'not-found';
      return row.suspended_at === null ? 'last-site-admin' : 'already-suspended';
    },
    async reactivate(id) {
      return reactivate.run(id).changes === 1;
    },
  };
}
