import type { SqliteDatabase } from './database.js';
import { pseudonymizedDetails } from '../pseudonymized-details.js';
import type { AccountErasureRepository } from '../types.js';

interface AuditRow {
  id: string;
  actor_id: string | null;
  target_id: string | null;
  details: string;
}

/**
 * One IMMEDIATE transaction: all of the person goes, or nothing does. Memberships, invitations to
 * organizations, password links, identity links, remembered browsers, deadline reminders and the
 * second factor (with its recovery codes and security keys) go with the user row by their foreign
 * keys' ON DELETE CASCADE; what has no such key is deleted here by name.
 */
export function sqliteErasure(db: SqliteDatabase): AccountErasureRepository {
  const emailOf = db.prepare<[string], { email: string }>('SELECT email FROM users WHERE id = ?');
  const deleteEnrollments = db.prepare('DELETE FROM pending_enrollments WHERE user_id = ?');
  const deleteModels = db.prepare('DELETE FROM oidc_models WHERE account_id = ?');
  const deleteMail = db.prepare('DELETE FROM outbox WHERE recipient = ?');
  const deleteUser = db.prepare('DELETE FROM users WHERE id = ?');
  const auditRows = db.prepare<[string, string], AuditRow>('SELECT id, actor_id, target_id, details FROM audit_events WHERE actor_id = ? UNION SELECT id, actor_id, target_id, details FROM audit_events WHERE target_id = ?');
  const rewrite = db.prepare(`UPDATE audit_events SET
      actor_email = CASE WHEN actor_id = @userId THEN @pseudonym ELSE actor_email END,
      target_email = CASE WHEN target_id = @userId THEN @pseudonym ELSE target_email END,
      details = @details
    WHERE id = @id`);

  const erase = db.transaction((userId: string, pseudonym: string): boolean => {
    const user = emailOf.get(userId);
    if (!user) return false;
    for (const row of auditRows.all(userId, userId)) {
      const details = pseudonymizedDetails(JSON.parse(row.details) as Record<string, unknown>, user.email, pseudonym);
      rewrite.run({ id: row.id, userId, pseudonym, details: JSON.stringify(details) });
    }
    deleteEnrollments.run(userId);
    deleteModels.run(userId);
    deleteMail.run(user.email);
    deleteUser.run(userId);
    return true;
  });

  return {
    async erase(userId, pseudonym) {
      return erase.immediate(userId, pseudonym);
    },
  };
}
