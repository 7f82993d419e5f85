import type { SqliteDatabase } from './database.js';
import type { AttemptRepository, AttemptState } from '../types.js';

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
