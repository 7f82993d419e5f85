import crypto from 'node:crypto';
import mongoose from 'mongoose';
import type { LogoutNotice, LogoutNoticeRepository, OutboxState } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

export interface LogoutNoticeDoc {
  _id: string;
  clientId: string;
  accountId: string;
  sid: string;
  state: OutboxState;
  queuedAt: Date;
  giveUpAt: Date;
  /** When the notice is due; while claimed, the end of the lease. */
  nextAttemptAt: Date;
  worker: string | null;
  attempts: number;
  lastError: string | null;
  finishedAt: Date | null;
}

export const logoutNoticeSchema = new mongoose.Schema<LogoutNoticeDoc>(
  {
    _id: { type: String, required: true },
    clientId: { type: String, required: true },
    accountId: { type: String, required: true },
    sid: { type: String, required: true },
    state: { type: String, required: true, enum: ['pending', 'sent', 'failed'] },
    queuedAt: { type: Date, required: true },
    giveUpAt: { type: Date, required: true },
    nextAttemptAt: { type: Date, required: true },
    worker: { type: String, default: null },
    attempts: { type: Number, required: true },
    lastError: { type: String, default: null },
    finishedAt: { type: Date, default: null },
  },
  { ...schemaOptions, collection: 'logout_notices' },
);
logoutNoticeSchema.index({ clientId: 1, sid: 1 }, { unique: true });
logoutNoticeSchema.index({ state: 1, nextAttemptAt: 1 });
logoutNoticeSchema.index({ state: 1, finishedAt: 1 });

const toNotice = (doc: LogoutNoticeDoc): LogoutNotice => ({
  id: doc._id,
  clientId: doc.clientId,
  accountId: doc.accountId,
  sid: doc.sid,
  state: doc.state,
  queuedAt: doc.queuedAt,
  giveUpAt: doc.giveUpAt,
  attempts: doc.attempts,
  lastError: doc.lastError,
  finishedAt: doc.finishedAt,
});

/** Claimed as the mail outbox is (outbox.ts): one findOneAndUpdate per notice; the unique (clientId, sid) index keeps one per session and application. */
export function mongoLogoutNotices(notices: Collection<LogoutNoticeDoc>): LogoutNoticeRepository {
  const holding = (id: string, worker: string) => ({ _id: id, worker, state: 'pending' as const });
  return {
    async record(newNotices, queuedAt, giveUpAt) {
      const recorded: string[] = [];
      for (const notice of newNotices) {
        const id = crypto.randomUUID();
        try {
          await notices.insertOne({
            _id: id, clientId: notice.clientId, accountId: notice.accountId, sid: notice.sid, state: 'pending',
            queuedAt, giveUpAt, nextAttemptAt: queuedAt, worker: null, attempts: 0, lastError: null, finishedAt: null,
          });
          recorded.push(id);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      }
      return recorded;
    },
    async claim(worker, now, leaseUntil, limit, ids) {
      const claimed: LogoutNotice[] = [];
      while (claimed.length < limit) {
        const doc = await notices.findOneAndUpdate(
          { state: 'pending', nextAttemptAt: { $lte: now }, ...(ids ? { _id: { $in: [...ids] } } : {}) },
          { $set: { worker, nextAttemptAt: leaseUntil }, $inc: { attempts: 1 } },
          { sort: { nextAttemptAt: 1, queuedAt: 1 }, returnDocument: 'after' },
        );
        if (!doc) break;
        claimed.push(toNotice(doc));
      }
      return claimed.sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
    },
    async markSent(id, worker, now) {
      return (await notices.updateOne(holding(id, worker), { $set: { state: 'sent', worker: null, lastError: null, finishedAt: now } })).modifiedCount === 1;
    },
    async reschedule(id, worker, nextAttemptAt, error) {
      return (await notices.updateOne(holding(id, worker), { $set: { worker: null, nextAttemptAt, lastError: error } })).modifiedCount === 1;
    },
    async markFailed(id, worker, now, error) {
      return (await notices.updateOne(holding(id, worker), { $set: { state: 'failed', worker: null, finishedAt: now, lastError: error } })).modifiedCount === 1;
    },
    async purge(before) {
      return (await notices.deleteMany({ state: { $ne: 'pending' }, finishedAt: { $lt: before } })).deletedCount;
    },
  };
}
