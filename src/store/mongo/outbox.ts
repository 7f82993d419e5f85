import mongoose from 'mongoose';
import type { OutboxEntry, OutboxMessage, OutboxRepository, OutboxState } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export interface OutboxDoc {
  _id: string;
  message: string;
  to: string;
  subject: string;
  /** Null once sent: the body is not kept after it has done its work. */
  sealedBody: string | null;
  state: OutboxState;
  queuedAt: Date;
  giveUpAt: Date;
  /** When the message is due; while claimed, the end of the lease. */
  nextAttemptAt: Date;
  /** The worker holding the claim, if any. */
  worker: string | null;
  attempts: number;
  lastError: string | null;
  finishedAt: Date | null;
}

export const outboxSchema = new mongoose.Schema<OutboxDoc>(
  {
    _id: { type: String, required: true },
    message: { type: String, required: true },
    to: { type: String, required: true },
    subject: { type: String, required: true },
    sealedBody: { type: String, default: null },
    state: { type: String, required: true, enum: ['pending', 'sent', 'failed'] },
    queuedAt: { type: Date, required: true },
    giveUpAt: { type: Date, required: true },
    nextAttemptAt: { type: Date, required: true },
    worker: { type: String, default: null },
    attempts: { type: Number, required: true },
    lastError: { type: String, default: null },
    finishedAt: { type: Date, default: null },
  },
  { ...schemaOptions, collection: 'outbox' },
);
outboxSchema.index({ state: 1, nextAttemptAt: 1 });
outboxSchema.index({ state: 1, queuedAt: 1 });
outboxSchema.index({ state: 1, finishedAt: -1 });
// Erasing an account deletes the messages addressed to it.
outboxSchema.index({ to: 1 });

const toEntry = (doc: OutboxDoc): OutboxEntry => ({
  id: doc._id,
  message: doc.message,
  to: doc.to,
  subject: doc.subject,
  state: doc.state,
  queuedAt: doc.queuedAt,
  attempts: doc.attempts,
  lastError: doc.lastError,
  finishedAt: doc.finishedAt,
});

const toMessage = (doc: OutboxDoc): OutboxMessage => ({ ...toEntry(doc), sealedBody: doc.sealedBody!, giveUpAt: doc.giveUpAt });

/**
 * Each claim is a findOneAndUpdate on one due message that moves its due time to the end of the
 * lease: a single-document atomic update, so of processes claiming at once exactly one gets each
 * message, and the same filter no longer matches it for the others.
 */
export function mongoOutbox(outbox: Collection<OutboxDoc>): OutboxRepository {
  const holding = (id: string, worker: string) => ({ _id: id, worker, state: 'pending' as const });
  return {
    async enqueue(message) {
      await outbox.insertOne({
        _id: message.id,
        message: message.message,
        to: message.to,
        subject: message.subject,
        sealedBody: message.sealedBody,
        state: 'pending',
        queuedAt: message.queuedAt,
        giveUpAt: message.giveUpAt,
        nextAttemptAt: message.queuedAt,
        worker: null,
        attempts: 0,
        lastError: null,
        finishedAt: null,
      });
    },
    async claim(worker, now, leaseUntil, limit, ids) {
      const claimed: OutboxMessage[] = [];
      while (claimed.length < limit) {
        const doc = await outbox.findOneAndUpdate(
          { state: 'pending', nextAttemptAt: { $lte: now }, ...(ids ? { _id: { $in: [...ids] } } : {}) },
          { $set: { worker, nextAttemptAt: leaseUntil }, $inc: { attempts: 1 } },
          { sort: { nextAttemptAt: 1, queuedAt: 1 }, returnDocument: 'after' },
        );
        if (!doc) break;
        claimed.push(toMessage(doc));
      }
      return claimed.sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime());
    },
    async markSent(id, worker, now) {
      const result = await outbox.updateOne(holding(id, worker), { $set: { state: 'sent', sealedBody: null, worker: null, lastError: null, finishedAt: now } });
      return result.modifiedCount === 1;
    },
    async reschedule(id, worker, nextAttemptAt, error) {
      const result = await outbox.updateOne(holding(id, worker), { $set: { worker: null, nextAttemptAt, lastError: error } });
      return result.modifiedCount === 1;
    },
    async markFailed(id, worker, now, error) {
      const result = await outbox.updateOne(holding(id, worker), { $set: { state: 'failed', worker: null, finishedAt: now, lastError: error } });
      return result.modifiedCount === 1;
    },
    async listFailed(limit) {
      return (await outbox.find({ state: 'failed' }).sort({ finishedAt: -1, _id: -1 }).limit(limit).toArray()).map(toEntry);
    },
    async retry(id, now, giveUpAt) {
      const doc = await outbox.findOneAndUpdate(
        { _id: id, state: 'failed' },
        { $set: { state: 'pending', attempts: 0, nextAttemptAt: now, giveUpAt, finishedAt: null, worker: null } },
        { returnDocument: 'after' },
      );
      return doc ? toEntry(doc) : null;
    },
    async depth() {
      const [pending, oldest, failed] = await Promise.all([
        outbox.countDocuments({ state: 'pending' }),
        outbox.findOne({ state: 'pending' }, { sort: { queuedAt: 1 }, projection: { queuedAt: 1 } }),
        outbox.countDocuments({ state: 'failed' }),
      ]);
      return { pending, oldestQueuedAt: oldest?.queuedAt ?? null, failed };
    },
    async purge(sentBefore, failedBefore) {
      const result = await outbox.deleteMany({
        $or: [{ state: 'sent', finishedAt: { $lt: sentBefore } }, { state: 'failed', finishedAt: { $lt: failedBefore } }],
      });
      return result.deletedCount;
    },
  };
}
