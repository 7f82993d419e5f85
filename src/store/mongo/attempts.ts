import mongoose from 'mongoose';
import type { AttemptRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

export interface AttemptDoc {
  _id: string;
  count: number;
  lockedUntil: Date | null;
  forgetAt: Date;
}

export const attemptSchema = new mongoose.Schema<AttemptDoc>(
  {
    _id: { type: String, required: true },
    count: { type: Number, required: true },
    lockedUntil: { type: Date, default: null },
    forgetAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'attempts' },
);
attemptSchema.index({ forgetAt: 1 }, { expireAfterSeconds: 0 });

/**
 * Two single-document updates, each atomic, and nothing that needs aggregation-pipeline updates (so
 * MongoDB-compatible servers work too): clear a lock that has run out, then count. Two requests
 * arriving as a lock runs out may both clear it; they still count 1 and 2.
 */
export function mongoAttempts(attempts: Collection<AttemptDoc>): AttemptRepository {
  const countOnce = (key: string, forgetAt: Date) =>
    attempts.findOneAndUpdate(
      { _id: key },
      { $inc: { count: 1 }, $max: { forgetAt }, $setOnInsert: { lockedUntil: null } },
      { upsert: true, returnDocument: 'after' },
    );
  return {
    async charge(key, now, forgetAt) {
      await attempts.updateOne({ _id: key, lockedUntil: { $ne: null, $lte: now } }, { $set: { count: 0, lockedUntil: null } });
      let doc: AttemptDoc | null;
      try {
        doc = await countOnce(key, forgetAt);
      } catch (error) {
        // Two first attempts racing to create the counter: the loser counts on the winner's document.
        if (!isDuplicateKey(error)) throw error;
        doc = await countOnce(key, forgetAt);
      }
      return { count: doc!.count, lockedUntil: doc!.lockedUntil ?? null };
    },
    async peek(key, now) {
      const doc = await attempts.findOne({ _id: key, forgetAt: { $gt: now }, $or: [{ lockedUntil: null }, { lockedUntil: { $gt: now } }] });
      return doc ? { count: doc.count, lockedUntil: doc.lockedUntil ?? null } : null;
    },
    async lock(key, until, now) {
      const result = await attempts.updateOne(
        { _id: key, $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }] },
        { $set: { lockedUntil: until }, $max: { forgetAt: until } },
      );
      return result.modifiedCount === 1;
    },
    async reset(key) {
      await attempts.deleteOne({ _id: key });
    },
    async purgeExpired(now = new Date()) {
      const result = await attempts.deleteMany({ forgetAt: { $lte: now } });
      return result.deletedCount;
    },
  };
}
