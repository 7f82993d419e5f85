import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import type {
  AttemptRepository,
  AttemptState,
  PendingEnrollment,
  PendingEnrollmentRepository,
  SecondFactor,
  SecondFactorRepository,
} from '../types.js';

interface SecondFactorRow {
  user_id: string;
  sealed_secret: string;
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
  const useCode = db.prepare('UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND id = ? AND used_at IS NULL');
  const remove = db.prepare('DELETE FROM second_factors WHERE user_id = ?');
  const enrolledAmong = db.prepare<[string], { user_id: string }>('SELECT user_id FROM second_factors WHERE user_id IN (SELECT value FROM json_each(?))');

  const insertCodes = (userId: string, hashes: readonly string[]) => {
    for (const hash of hashes) insertCode.run(crypto.randomUUID(), userId, hash);
  };
  const enable = db.transaction((userId: string, sealedSecret: string, lastTimeStep: number, keyId: string, hashes: readonly string[]) => {
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
    async enable(secondFactor) {
      return enable.immediate(secondFactor.userId, secondFactor.sealedSecret, secondFactor.lastTimeStep, secondFactor.recoveryKeyId, secondFactor.recoveryCodeHashes);
    },
    async acceptTimeStep(userId, timeStep) {
      return accept.run(timeStep, userId, timeStep).changes === 1;
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

interface EnrollmentRow {
  id: string;
  user_id: string;
  sealed_secret: string | null;
  sealed_recovery_codes: string | null;
  expires_at: number;
}

export function sqliteEnrollments(db: SqliteDatabase): PendingEnrollmentRepository {
  const put = db.prepare(`INSERT INTO pending_enrollments (id, user_id, sealed_secret, sealed_recovery_codes, expires_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, sealed_secret = excluded.sealed_secret,
      sealed_recovery_codes = excluded.sealed_recovery_codes, expires_at = excluded.expires_at`);
  const find = db.prepare<[string, number], EnrollmentRow>('SELECT * FROM pending_enrollments WHERE id = ? AND expires_at > ?');
  const del = db.prepare('DELETE FROM pending_enrollments WHERE id = ?');
  const purge = db.prepare('DELETE FROM pending_enrollments WHERE expires_at <= ?');
  return {
    async put(enrollment: PendingEnrollment) {
      purge.run(Date.now());
      put.run(enrollment.id, enrollment.userId, enrollment.sealedSecret, enrollment.sealedRecoveryCodes, enrollment.expiresAt.getTime());
    },
    async find(id) {
      const row = find.get(id, Date.now());
      return row
        ? { id: row.id, userId: row.user_id, sealedSecret: row.sealed_secret, sealedRecoveryCodes: row.sealed_recovery_codes, expiresAt: new Date(row.expires_at) }
        : null;
    },
    async delete(id) {
      del.run(id);
    },
  };
}

export function sqliteAttempts(db: SqliteDatabase): AttemptRepository {
  const upsert = db.prepare<[string, number, number, number, number], { count: number; locked_until: number | null }>(`
    INSERT INTO attempts (key, count, locked_until, forget_at) VALUES (?, 1, NULL, ?)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN attempts.locked_until IS NOT NULL AND attempts.locked_until <= ? THEN 1 ELSE attempts.count + 1 END,
      locked_until = CASE WHEN attempts.locked_until IS NOT NULL AND attempts.locked_until <= ? THEN NULL ELSE attempts.locked_until END,
      forget_at = MAX(attempts.forget_at, ?)
    RETURNING count, locked_until`);
  const lock = db.prepare(`UPDATE attempts SET locked_until = ?, forget_at = MAX(forget_at, ?)
    WHERE key = ? AND (locked_until IS NULL OR locked_until <= ?)`);
  const reset = db.prepare('DELETE FROM attempts WHERE key = ?');
  const peek = db.prepare<[string, number, number], { count: number; locked_until: number | null }>(
    'SELECT count, locked_until FROM attempts WHERE key = ? AND forget_at > ? AND (locked_until IS NULL OR locked_until > ?)',
  );
  const purge = db.prepare('DELETE FROM attempts WHERE forget_at <= ?');
  return {
    async charge(key, now, forgetAt) {
      const row = upsert.get(key, forgetAt.getTime(), now.getTime(), now.getTime(), forgetAt.getTime())!;
      const state: AttemptState = { count: row.count, lockedUntil: row.locked_until === null ? null : new Date(row.locked_until) };
      return state;
    },
    async peek(key, now) {
      const row = peek.get(key, now.getTime(), now.getTime());
      return row ? { count: row.count, lockedUntil: row.locked_until === null ? null : new Date(row.locked_until) } : null;
    },
    async lock(key, until, now) {
      return lock.run(until.getTime(), until.getTime(), key, now.getTime()).changes === 1;
    },
    async reset(key) {
      reset.run(key);
    },
    async purgeExpired(now = new Date()) {
      return purge.run(now.getTime()).changes;
    },
  };
}
