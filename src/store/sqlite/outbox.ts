import type { SqliteDatabase } from './database.js';
import type { OutboxEntry, OutboxMessage, OutboxRepository, OutboxState } from '../types.js';

interface OutboxRow {
  id: string;
  message: string;
  recipient: string;
  subject: string;
  sealed_body: string | null;
  state: OutboxState;
  queued_at: number;
  give_up_at: number;
  attempts: number;
  last_error: string | null;
  finished_at: number | null;
}

const toEntry = (row: OutboxRow): OutboxEntry => ({
  id: row.id,
  message: row.message,
  to: row.recipient,
  subject: row.subject,
  state: row.state,
  queuedAt: new Date(row.queued_at),
  attempts: row.attempts,
  lastError: row.last_error,
  finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
});

const toMessage = (row: OutboxRow): OutboxMessage => ({ ...toEntry(row), sealedBody: row.sealed_body!, giveUpAt: new Date(row.give_up_at) });

/**
 * A claim is one UPDATE … RETURNING in an IMMEDIATE transaction: the write lock is taken before the
 * due rows are read, so two processes on the same file (WAL) claim one after the other and the second
 * no longer sees what the first took. While claimed, `next_attempt_at` holds the end of the lease.
 */
export function sqliteOutbox(db: SqliteDatabase): OutboxRepository {
  const insert = db.prepare(`INSERT INTO outbox (id, message, recipient, subject, sealed_body, state, queued_at, give_up_at, next_attempt_at)
    VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`);
  const claimDue = db.prepare<[string, number, number, number], OutboxRow>(`
    UPDATE outbox SET worker = ?, next_attempt_at = ?, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, queued_at LIMIT ?)
    RETURNING *`);
  const claimDueAmong = db.prepare<[string, number, number, string, number], OutboxRow>(`
    UPDATE outbox SET worker = ?, next_attempt_at = ?, attempts = attempts + 1
    WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? AND id IN (SELECT value FROM json_each(?))
      ORDER BY next_attempt_at, queued_at LIMIT ?)
    RETURNING *`);
  const markSent = db.prepare(`UPDATE outbox SET state = 'sent', sealed_body = NULL, worker = NULL, last_error = NULL, finished_at = ?
    WHERE id = ? AND worker = ? AND state = 'pending'`);
  const reschedule = db.prepare(`UPDATE outbox SET worker = NULL, next_attempt_at = ?, last_error = ?
    WHERE id = ? AND worker = ? AND state = 'pending'`);
  const markFailed = db.prepare(`UPDATE outbox SET state = 'failed', worker = NULL, finished_at = ?, last_error = ?
    WHERE id = ? AND worker = ? AND state = 'pending'`);
  const failed = db.prepare<[number], OutboxRow>("SELECT * FROM outbox WHERE state = 'failed' ORDER BY finished_at DESC, rowid DESC LIMIT ?");
  const retry = db.prepare<[number, number, string], OutboxRow>(`UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, give_up_at = ?, finished_at = NULL, worker = NULL
    WHERE id = ? AND state = 'failed' RETURNING *`);
  const pending = db.prepare<[], { n: number; oldest: number | null }>("SELECT COUNT(*) AS n, MIN(queued_at) AS oldest FROM outbox WHERE state = 'pending'");
  const failedCount = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE state = 'failed'");
  const purge = db.prepare("DELETE FROM outbox WHERE (state = 'sent' AND finished_at < ?) OR (state = 'failed' AND finished_at < ?)");
  const claim = db.transaction((worker: string, now: number, leaseUntil: number, limit: number, ids: readonly string[] | undefined) =>
    ids ? claimDueAmong.all(worker, leaseUntil, now, JSON.stringify(ids), limit) : claimDue.all(worker, leaseUntil, now, limit));
  return {
    async enqueue(message) {
      insert.run(message.id, message.message, message.to, message.subject, message.sealedBody, message.queuedAt.getTime(), message.giveUpAt.getTime(), message.queuedAt.getTime());
    },
    async claim(worker, now, leaseUntil, limit, ids) {
      if (limit <= 0 || ids?.length === 0) return [];
      return claim.immediate(worker, now.getTime(), leaseUntil.getTime(), limit, ids).map(toMessage).sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
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
    async listFailed(limit) {
      return failed.all(limit).map(toEntry);
    },
    async retry(id, now, giveUpAt) {
      const row = retry.get(now.getTime(), giveUpAt.getTime(), id);
      return row ? toEntry(row) : null;
    },
    async depth() {
      const { n, oldest } = pending.get()!;
      return { pending: n, oldestQueuedAt: oldest === null ? null : new Date(oldest), failed: failedCount.get()!.n };
    },
    async purge(sentBefore, failedBefore) {
      return purge.run(sentBefore.getTime(), failedBefore.getTime()).changes;
    },
  };
}
