import type { SqliteDatabase } from './database.js';
import { isUniqueViolation } from './database.js';
import { DuplicateError, type IdentityLinkRepository } from '../types.js';

export function sqliteIdentityLinks(db: SqliteDatabase): IdentityLinkRepository {
  const find = db.prepare<[string, string], { user_id: string }>('SELECT user_id FROM identity_links WHERE issuer = ? AND subject = ?');
  const insert = db.prepare('INSERT INTO identity_links (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)');
  return {
    async findUser(issuer, subject) {
      return find.get(issuer, subject)?.user_id ?? null;
    },
    async link(issuer, subject, userId) {
      try {
        insert.run(issuer, subject, userId, Date.now());
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateError('identity link');
        throw error;
      }
    },
  };
}
