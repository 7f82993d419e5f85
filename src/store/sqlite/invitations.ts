import type { SqliteDatabase } from './database.js';
import type { InvitationRepository } from '../types.js';

export function sqliteInvitations(db: SqliteDatabase): InvitationRepository {
  const insert = db.prepare('INSERT INTO invitations (token_hash, user_id, expires_at) VALUES (?, ?, ?)');
  const take = db.prepare<[string, number], { user_id: string }>('DELETE FROM invitations WHERE token_hash = ? AND expires_at > ? RETURNING user_id');
  const find = db.prepare<[string, number], { user_id: string }>('SELECT user_id FROM invitations WHERE token_hash = ? AND expires_at > ?');
  const purge = db.prepare('DELETE FROM invitations WHERE expires_at <= ?');
  const removeAllOf = db.prepare('DELETE FROM invitations WHERE user_id = ?');
  return {
    async create(tokenHash, userId, expiresAt) {
      purge.run(Date.now());
      insert.run(tokenHash, userId, expiresAt.getTime());
    },
    async consume(tokenHash, now = new Date()) {
      return take.get(tokenHash, now.getTime())?.user_id ?? null;
    },
    async find(tokenHash, now = new Date()) {
      return find.get(tokenHash, now.getTime())?.user_id ?? null;
    },
    async removeAllOf(userId) {
      return removeAllOf.run(userId).changes;
    },
  };
}
