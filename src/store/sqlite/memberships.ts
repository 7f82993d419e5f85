import type { SqliteDatabase } from './database.js';
import type { Membership, MembershipRepository, Role } from '../types.js';

interface MembershipRow {
  organization_id: string;
  user_id: string;
  role: Role;
  created_at: number;
}

const toMembership = (row: MembershipRow): Membership => ({
  organizationId: row.organization_id,
  userId: row.user_id,
  role: row.role,
  createdAt: new Date(row.created_at),
});

export function sqliteMemberships(db: SqliteDatabase): MembershipRepository {
  const upsert = db.prepare(`
    INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role`);
  const one = db.prepare<[string, string], MembershipRow>('SELECT * FROM memberships WHERE organization_id = ? AND user_id = ?');
  const del = db.prepare('DELETE FROM memberships WHERE organization_id = ? AND user_id = ?');
  const byUser = db.prepare<[string], MembershipRow>('SELECT * FROM memberships WHERE user_id = ? ORDER BY created_at');
  const byOrganization = db.prepare<[string], MembershipRow>('SELECT * FROM memberships WHERE organization_id = ? ORDER BY created_at');
  const byUsers = db.prepare<[string], MembershipRow>('SELECT * FROM memberships WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY created_at');
  // Read through the partial index of owners: the members are not looked at.
  const owners = db.prepare<[string], MembershipRow>("SELECT * FROM memberships WHERE role = 'owner' AND organization_id IN (SELECT value FROM json_each(?)) ORDER BY created_at");

  const adoption = db.prepare<[string, string], { members: number; enrolled: number }>(`
    SELECT COUNT(*) AS members, COUNT(s.user_id) AS enrolled FROM memberships m LEFT JOIN second_factors s ON s.user_id = m.user_id
    WHERE m.organization_id = ? AND (? = 'all' OR m.role = 'owner')`);

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
    async listByUsers(userIds) {
      if (userIds.length === 0) return [];
      return byUsers.all(JSON.stringify(userIds)).map(toMembership);
    },
    async listOwners(organizationIds) {
      if (organizationIds.length === 0) return [];
      return owners.all(JSON.stringify(organizationIds)).map(toMembership);
    },
    async countAdoption(organizationId, among) {
      const { members, enrolled } = adoption.get(organizationId, among)!;
      return { members, enrolled };
    },
  };
}
