import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import type { SecondFactor, SecondFactorRepository } from '../types.js';

interface SecondFactorRow {
  user_id: string;
  sealed_secret: string | null;
  enabled_at: number;
  last_time_step: number;
  recovery_key_id: string;
}

interface RecoveryCodeRow {
  id: string;
  hash: string;
  used_at: number | null;
}

export function sqliteSecondFactors(db: SqliteDatabase): SecondFactorRepository {
  const one = db.prepare<[string], SecondFactorRow>('SELECT * FROM second_factors WHERE user_id = ?');
  const codes = db.prepare<[string], RecoveryCodeRow>('SELECT id, hash, used_at FROM recovery_codes WHERE user_id = ? ORDER BY rowid');
  const insert = db.prepare(`INSERT INTO second_factors (user_id, sealed_secret, enabled_at, last_time_step, recovery_key_id)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING`);
  const insertCode = db.prepare('INSERT INTO recovery_codes (id, user_id, hash) VALUES (?, ?, ?)');
  const deleteCodes = db.prepare('DELETE FROM recovery_codes WHERE user_id = ?');
  const setKeyId = db.prepare('UPDATE second_factors SET recovery_key_id = ? WHERE user_id = ?');
  const accept = db.prepare('UPDATE second_factors SET last_time_step = ? WHERE user_id = ? AND last_time_step < ?');
  const setSecret = db.prepare('UPDATE second_factors SET sealed_secret = ?, last_time_step = ? WHERE user_id = ?');
  const useCode = db.prepare('UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND id = ? AND used_at IS NULL');
  const remove = db.prepare('DELETE FROM second_factors WHERE user_id = ?');
  const enrolledAmong = db.prepare<[string], { user_id: string }>('SELECT user_id FROM second_factors WHERE user_id IN (SELECT value FROM json_each(?))');
  const appsAmong = db.prepare<[string], { user_id: string }>('SELECT user_id FROM second_factors WHERE sealed_secret IS NOT NULL AND user_id IN (SELECT value FROM json_each(?))');
  // The LEFT JOIN keeps an enrolled user whose codes are all used, with 0.
  const remainingAmong = db.prepare<[string], { user_id: string; remaining: number }>(`
    SELECT s.user_id, COUNT(c.id) AS remaining FROM second_factors s
    LEFT JOIN recovery_codes c ON c.user_id = s.user_id AND c.used_at IS NULL
    WHERE s.user_id IN (SELECT value FROM json_each(?))
    GROUP BY s.user_id`);

  const insertCodes = (userId: string, hashes: readonly string[]) => {
    for (const hash of hashes) insertCode.run(crypto.randomUUID(), userId, hash);
  };
  const enable = db.transaction((userId: string, sealedSecret: string | null, lastTimeStep: number, keyId: string, hashes: readonly string[]) => {
    if (insert.run(userId, sealedSecret, Date.now(), lastTimeStep, keyId).changes === 0) return false;
    insertCodes(userId, hashes);
    return true;
  });
  const replace = db.transaction((userId: string, keyId: string, hashes: readonly string[]) => {
    if (setKeyId.run(keyId, userId).changes === 0) return false;
    deleteCodes.run(userId);
    insertCodes(userId, hashes);
    return true;
  });
  const disable = db.transaction((userId: string) => {
    deleteCodes.run(userId);
    return remove.run(userId).changes > 0;
  });

  return {
    async find(userId) {
      const row = one.get(userId);
      if (!row) return null;
      const secondFactor: SecondFactor = {
        userId: row.user_id,
        sealedSecret: row.sealed_secret,
        enabledAt: new Date(row.enabled_at),
        lastTimeStep: row.last_time_step,
        recoveryKeyId: row.recovery_key_id,
        recoveryCodes: codes.all(userId).map((code) => ({ id: code.id, hash: code.hash, usedAt: code.used_at === null ? null : new Date(code.used_at) })),
      };
      return secondFactor;
    },
    async enrolledAmong(userIds) {
      if (userIds.length === 0) return new Set();
      return new Set(enrolledAmong.all(JSON.stringify(userIds)).map((row) => row.user_id));
    },
    async appsAmong(userIds) {
      if (userIds.length === 0) return new Set();
      return new Set(appsAmong.all(JSON.stringify(userIds)).map((row) => row.user_id));
    },
    async recoveryCodesRemaining(userIds) {
      if (userIds.length === 0) return new Map();
      return new Map(remainingAmong.all(JSON.stringify(userIds)).map((row) => [row.user_id, row.remaining]));
    },
    async enable(secondFactor) {
      return enable.immediate(secondFactor.userId, secondFactor.sealedSecret, secondFactor.lastTimeStep, secondFactor.recoveryKeyId, secondFactor.recoveryCodeHashes);
    },
    async acceptTimeStep(userId, timeStep) {
      return accept.run(timeStep, userId, timeStep).changes === 1;
    },
    async replaceSecret(userId, sealedSecret, lastTimeStep) {
      return setSecret.run(sealedSecret, lastTimeStep, userId).changes === 1;
    },
    async useRecoveryCode(userId, codeId) {
      return useCode.run(Date.now(), userId, codeId).changes === 1;
    },
    async replaceRecoveryCodes(userId, recoveryKeyId, hashes) {
      return replace.immediate(userId, recoveryKeyId, hashes);
    },
    async disable(userId) {
      return disable.immediate(userId);
    },
  };
}
