import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import type { LogoutNotice, LogoutNoticeRepository, OutboxState } from '../types.js';

interface NoticeRow {
  id: string;
  client_id: string;
  account_id: string;
  sid: string;
  state: OutboxState;
  queued_at: number;
  give_up_at: number;
  attempts: number;
  last_error: string | null;
  finished_at: number | null;
}

const toNotice = (row: NoticeRow): LogoutNotice => ({
  id: row.id,
  clientId: row.client_id,
  accountId: row.account_id,
  sid: row.sid,
  state: row.state,
  queuedAt: new Date(row.queued_at),
  giveUpAt: new Date(row.give_up_at),
  attempts: row.attempts,
  lastError: row.last_error,
  finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
});

/**
 * The same lease as the mail outbox (outbox.ts): a claim is one UPDATE … RETURNING in an IMMEDIATE
 * transaction, and while a notice is claimed `next_attempt_at` holds the end of its lease. The unique
 * (client_id, sid) keeps one notice per session and application.
 */
export function sqliteLogoutNotices(db: SqliteDatabase): LogoutNoticeRepository {
  const insert = db.prepare(`INSERT INTO logout_notices (id, client_id, account_id, sid, state, queued_at, give_up_at, next_attempt_at)
    VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (client_id, sid) DO NOTHING`);
  const due = "state = 'pending' AND next_attempt_at <= ?";
  const claimDue = db.prepare<[string, number, number, number], NoticeRow>(`
    UPDATE logout_notices SET worker = ?, next_attempt_at = ?, attempts = attempts + 1
    WHERE id IN (SELECT id FROM logout_notices WHERE ${due} ORDER BY next_attempt_at, queued_at LIMIT ?)
    RETURNING *`);
  const claimDueAmong = db.prepare<[string, number, number, string, number], NoticeRow>(`
    UPDATE logout_notices SET worker = ?, next_attempt_at = ?, attempts = attempts + 1
    WHERE id IN (SELECT id FROM logout_notices WHERE ${due} AND id IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at, queued_at LIMIT ?)
    RETURNING *`);
  const holding = "id = ? AND worker = ? AND state = 'pending'";
  const markSent = db.prepare(`UPDATE logout_notices SET state = 'sent', worker = NULL, last_error = NULL, finished_at = ? WHERE ${holding}`);
  const reschedule = db.prepare(`UPDATE logout_notices SET worker = NULL, next_attempt_at = ?, last_error = ? WHERE ${holding}`);
  const markFailed = db.prepare(`UPDATE logout_notices SET state = 'failed', worker = NULL, finished_at = ?, last_error = ? WHERE ${holding}`);
  const purge = db.prepare("DELETE FROM logout_notices WHERE state <> 'pending' AND finished_at < ?");

  const record = db.transaction((notices: Parameters<LogoutNoticeRepository['record']>[0], queuedAt: number, giveUpAt: number) =>
    notices.flatMap((notice) => {
      const id = crypto.randomUUID();
      return insert.run(id, notice.clientId, notice.accountId, notice.sid, queuedAt, giveUpAt, queuedAt).changes === 1 ? [id] : [];
    }));
  const claim = db.transaction((worker: string, now: number, leaseUntil: number, limit: number, ids: readonly string[] | undefined) =>
    ids ? claimDueAmong.all(worker, leaseUntil, now, JSON.stringify(ids), limit) : claimDue.all(worker, leaseUntil, now, limit));

  return {
    async record(notices, queuedAt, giveUpAt) {
      if (notices.length === 0) return [];
      return record.immediate(notices, queuedAt.getTime(), giveUpAt.getTime());
    },
    async claim(worker, now, leaseUntil, limit, ids) {
      if (limit <= 0 || ids?.length === 0) return [];
      return claim.immediate(worker, now.getTime(), leaseUntil.getTime(), limit, ids).map(toNotice).sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
    },
    async markSent(id, worker, now) {
      return markSent.run(now.getTime(), id, worker).changes === 1;
    },
    async reschedule(id, worker, nextAttemptAt, error) {
      return reschedule.run(nextAttemptAt.getTime(), error, id, worker).changes === 1;
    },
    async markFailed(id, worker, now, error) {
      return markFailed.run(now.getTime(), error, id, worker).changes === 1;
    },
    async purge(before) {
      return purge.run(before.getTime()).changes;
    },
  };
}
