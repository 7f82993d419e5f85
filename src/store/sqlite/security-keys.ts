import crypto from 'node:crypto';
import { isUniqueViolation, type SqliteDatabase } from './database.js';
import { DuplicateError, type SecurityKey, type SecurityKeyRepository } from '../types.js';

interface SecurityKeyRow {
  credential_id: string;
  user_id: string;
  name: string;
  public_key: string;
  counter: number;
  transports: string;
  synced: number;
  created_at: number;
  last_used_at: number | null;
}

const toKey = (row: SecurityKeyRow): SecurityKey => ({
  credentialId: row.credential_id,
  userId: row.user_id,
  name: row.name,
  publicKey: row.public_key,
  counter: row.counter,
  transports: JSON.parse(row.transports) as string[],
  synced: row.synced === 1,
  createdAt: new Date(row.created_at),
  lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
});

/** Keys hang off the second-factor row (ON DELETE CASCADE): disabling two-factor authentication removes them with it. */
export function sqliteSecurityKeys(db: SqliteDatabase): SecurityKeyRepository {
  const insertFactor = db.prepare(`INSERT INTO second_factors (user_id, sealed_secret, enabled_at, last_time_step, recovery_key_id)
    VALUES (?, NULL, ?, 0, ?) ON CONFLICT (user_id) DO NOTHING`);
  const insertCode = db.prepare('INSERT INTO recovery_codes (id, user_id, hash) VALUES (?, ?, ?)');
  const insertKey = db.prepare(`INSERT INTO security_keys (credential_id, user_id, name, public_key, counter, transports, synced, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const one = db.prepare<[string], SecurityKeyRow>('SELECT * FROM security_keys WHERE credential_id = ?');
  const ofUser = db.prepare<[string], SecurityKeyRow>('SELECT * FROM security_keys WHERE user_id = ? ORDER BY created_at, rowid');
  // Both 0: an authenticator that keeps no counter. Otherwise only forward.
  const use = db.prepare(`UPDATE security_keys SET counter = ?, last_used_at = ?
    WHERE credential_id = ? AND (counter < ? OR (counter = 0 AND ? = 0))`);
  const removeKey = db.prepare('DELETE FROM security_keys WHERE user_id = ? AND credential_id = ?');
  const anotherFactor = db.prepare<[string, string, string], { other: number }>(`SELECT
    EXISTS (SELECT 1 FROM security_keys WHERE user_id = ? AND credential_id <> ?)
    OR EXISTS (SELECT 1 FROM second_factors WHERE user_id = ? AND sealed_secret IS NOT NULL) AS other`);
  const removeFactorIfEmpty = db.prepare(`DELETE FROM second_factors WHERE user_id = ? AND sealed_secret IS NULL
    AND NOT EXISTS (SELECT 1 FROM security_keys WHERE user_id = ?)`);
  const countAmong = db.prepare<[string], { user_id: string; keys: number }>(`
    SELECT user_id, COUNT(*) AS keys FROM security_keys WHERE user_id IN (SELECT value FROM json_each(?)) GROUP BY user_id`);

  const add = db.transaction((key: Parameters<SecurityKeyRepository['add']>[0], codes: Parameters<SecurityKeyRepository['add']>[1]) => {
    const first = insertFactor.run(key.userId, Date.now(), codes.recoveryKeyId).changes === 1;
    if (first) for (const hash of codes.recoveryCodeHashes) insertCode.run(crypto.randomUUID(), key.userId, hash);
    insertKey.run(key.credentialId, key.userId, key.name, key.publicKey, key.counter, JSON.stringify(key.transports), key.synced ? 1 : 0, Date.now());
    return { first };
  });
  const remove = db.transaction((userId: string, credentialId: string, keepLastFactor: boolean) => {
    if (one.get(credentialId)?.user_id !== userId) return 'not-found' as const;
    if (keepLastFactor && anotherFactor.get(userId, credentialId, userId)!.other === 0) return 'last-factor-kept' as const;
    removeKey.run(userId, credentialId);
    // The recovery codes go with the second factor (ON DELETE CASCADE).
    const last = removeFactorIfEmpty.run(userId, userId).changes === 1;
    return last ? ('removed-last' as const) : ('removed' as const);
  });

  return {
    async add(key, codes) {
      try {
        return add.immediate(key, codes);
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateError('credential id');
        throw error;
      }
    },
    async find(credentialId) {
      const row = one.get(credentialId);
      return row ? toKey(row) : null;
    },
    async listByUser(userId) {
      return ofUser.all(userId).map(toKey);
    },
    async recordUse(credentialId, counter, at) {
      return use.run(counter, at.getTime(), credentialId, counter, counter).changes === 1;
    },
    async remove(userId, credentialId, { keepLastFactor = false } = {}) {
      return remove.immediate(userId, credentialId, keepLastFactor);
    },
    async countAmong(userIds) {
      if (userIds.length === 0) return new Map();
      return new Map(countAmong.all(JSON.stringify(userIds)).map((row) => [row.user_id, row.keys]));
    },
  };
}
