import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import type { RememberedBrowser, RememberedBrowserRepository } from '../types.js';

interface RememberedBrowserRow {
  id: string;
  user_id: string;
  token_hash: string;
  description: string;
  created_at: number;
  expires_at: number;
}

const toRememberedBrowser = (row: RememberedBrowserRow): RememberedBrowser => ({
  id: row.id,
  userId: row.user_id,
  tokenHash: row.token_hash,
  description: row.description,
  createdAt: new Date(row.created_at),
  expiresAt: new Date(row.expires_at),
});

export function sqliteRememberedBrowsers(db: SqliteDatabase): RememberedBrowserRepository {
  const insert = db.prepare('INSERT INTO remembered_browsers (id, user_id, token_hash, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
  const byHash = db.prepare<[string], RememberedBrowserRow>('SELECT * FROM remembered_browsers WHERE token_hash = ?');
  const byUser = db.prepare<[string], RememberedBrowserRow>('SELECT * FROM remembered_browsers WHERE user_id = ? ORDER BY created_at DESC, id');
  const removeOne = db.prepare('DELETE FROM remembered_browsers WHERE user_id = ? AND id = ?');
  const removeAll = db.prepare('DELETE FROM remembered_browsers WHERE user_id = ?');
  const purge = db.prepare('DELETE FROM remembered_browsers WHERE expires_at <= ?');
  return {
    async create(browser) {
      const id = crypto.randomUUID();
      insert.run(id, browser.userId, browser.tokenHash, browser.description, browser.createdAt.getTime(), browser.expiresAt.getTime());
      return { id, ...browser };
    },
    async findByTokenHash(tokenHash) {
      const row = byHash.get(tokenHash);
      return row ? toRememberedBrowser(row) : null;
    },
    async listByUser(userId) {
      return byUser.all(userId).map(toRememberedBrowser);
    },
    async remove(userId, id) {
      return removeOne.run(userId, id).changes > 0;
    },
    async removeAllOf(userId) {
      return removeAll.run(userId).changes;
    },
    async purgeExpired(now) {
      return purge.run(now.getTime()).changes;
    },
  };
}
