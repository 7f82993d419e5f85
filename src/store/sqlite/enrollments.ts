import type { SqliteDatabase } from './database.js';
import type { PendingEnrollment, PendingEnrollmentRepository } from '../types.js';

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
