import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import type { MembershipInvitation, MembershipInvitationRepository, Role } from '../types.js';

interface InvitationRow {
  id: string;
  organization_id: string;
  user_id: string;
  role: Role;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
}

const toInvitation = (row: InvitationRow): MembershipInvitation => ({
  id: row.id,
  organizationId: row.organization_id,
  userId: row.user_id,
  role: row.role,
  invitedBy: row.invited_by,
  createdAt: new Date(row.created_at),
  expiresAt: new Date(row.expires_at),
});

export function sqliteMembershipInvitations(db: SqliteDatabase): MembershipInvitationRepository {
  const upsert = db.prepare<[string, string, string, Role, string | null, number, number], InvitationRow>(`
    INSERT INTO membership_invitations (id, organization_id, user_id, role, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (organization_id, user_id) DO UPDATE SET id = excluded.id, role = excluded.role, invited_by = excluded.invited_by,
      created_at = excluded.created_at, expires_at = excluded.expires_at
    RETURNING *`);
  const one = db.prepare<[string, number], InvitationRow>('SELECT * FROM membership_invitations WHERE id = ? AND expires_at > ?');
  const byUser = db.prepare<[string, number], InvitationRow>('SELECT * FROM membership_invitations WHERE user_id = ? AND expires_at > ? ORDER BY created_at');
  const byOrganization = db.prepare<[string, number], InvitationRow>(
    'SELECT * FROM membership_invitations WHERE organization_id = ? AND expires_at > ? ORDER BY created_at',
  );
  const take = db.prepare<[string, number], InvitationRow>('DELETE FROM membership_invitations WHERE id = ? AND expires_at > ? RETURNING *');
  const purge = db.prepare('DELETE FROM membership_invitations WHERE expires_at <= ?');
  return {
    async put(invitation) {
      purge.run(Date.now());
      return toInvitation(upsert.get(crypto.randomUUID(), invitation.organizationId, invitation.userId, invitation.role, invitation.invitedBy, Date.now(), invitation.expiresAt.getTime())!);
    },
    async find(id, now = new Date()) {
      const row = one.get(id, now.getTime());
      return row ? toInvitation(row) : null;
    },
    async listByUser(userId, now = new Date()) {
      return byUser.all(userId, now.getTime()).map(toInvitation);
    },
    async listByOrganization(organizationId, now = new Date()) {
      return byOrganization.all(organizationId, now.getTime()).map(toInvitation);
    },
    async take(id, now = new Date()) {
      const row = take.get(id, now.getTime());
      return row ? toInvitation(row) : null;
    },
  };
}
