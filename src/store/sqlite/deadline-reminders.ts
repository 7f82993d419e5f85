import type { SqliteDatabase } from './database.js';
import type { DeadlineReminderRepository } from '../types.js';

export function sqliteDeadlineReminders(db: SqliteDatabase): DeadlineReminderRepository {
  // The primary key (user, deadline, reminder) lets exactly one of racing writers in.
  const claim = db.prepare('INSERT INTO deadline_reminders (user_id, deadline, reminder, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
  return {
    async claim(userId, deadline, reminder, at) {
      return claim.run(userId, deadline.getTime(), reminder, at.getTime()).changes > 0;
    },
  };
}
