import crypto from 'node:crypto';
import mongoose from 'mongoose';
import { DuplicateError, type SecurityKey, type SecurityKeyRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';
import type { SecondFactorDoc } from './second-factors.js';

/** `_id` is the credential id, so the primary key keeps it unique across users. */
export interface SecurityKeyDoc {
  _id: string;
  userId: string;
  name: string;
  publicKey: string;
  counter: number;
  transports: string[];
  synced: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** Set while a removal decides whether the key may go (see `remove`); cleared if it may not. */
  removingSince?: Date | null;
}

export const securityKeySchema = new mongoose.Schema<SecurityKeyDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    name: { type: String, required: true },
    publicKey: { type: String, required: true },
    counter: { type: Number, required: true },
    transports: { type: [String], default: [] },
    synced: { type: Boolean, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, default: null },
    removingSince: { type: Date, default: null },
  },
  { ...schemaOptions, collection: 'security_keys' },
);
securityKeySchema.index({ userId: 1, createdAt: 1 });

const toKey = (doc: SecurityKeyDoc): SecurityKey => ({
  credentialId: doc._id,
  userId: doc.userId,
  name: doc.name,
  publicKey: doc.publicKey,
  counter: doc.counter,
  transports: doc.transports ?? [],
  synced: doc.synced,
  createdAt: doc.createdAt,
  lastUsedAt: doc.lastUsedAt ?? null,
});

/** A removal that claimed a key and then stopped (a lost connection) no longer holds it after this. */
const REMOVAL_CLAIM_MS = 60_000;

/**
 * Keys are documents of their own, next to the second-factor document they belong to: adding the
 * first key creates that document (with the recovery codes) first, and removing the last key of a
 * user without an app deletes it, each with a conditional write.
 */
export function mongoSecurityKeys(securityKeys: Collection<SecurityKeyDoc>, secondFactors: Collection<SecondFactorDoc>): SecurityKeyRepository {
  return {
    async add(key, codes) {
      if (await securityKeys.findOne({ _id: key.credentialId }, { projection: { _id: 1 } })) throw new DuplicateError('credential id');
      let first = false;
      try {
        await secondFactors.insertOne({
          _id: key.userId,
          sealedSecret: null,
          enabledAt: new Date(),
          lastTimeStep: 0,
          recoveryKeyId: codes.recoveryKeyId,
          recoveryCodes: Object.fromEntries(codes.recoveryCodeHashes.map((hash, order) => [crypto.randomUUID(), { hash, usedAt: null, order }])),
        });
        first = true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      try {
        await securityKeys.insertOne({ _id: key.credentialId, userId: key.userId, name: key.name, publicKey: key.publicKey, counter: key.counter, transports: [...key.transports], synced: key.synced, createdAt: new Date(), lastUsedAt: null });
      } catch (error) {
        if (first) await secondFactors.deleteOne({ _id: key.userId, sealedSecret: null });
        if (isDuplicateKey(error)) throw new DuplicateError('credential id');
        throw error;
      }
      return { first };
    },
    async find(credentialId) {
      const doc = await securityKeys.findOne({ _id: credentialId });
      return doc ? toKey(doc) : null;
    },
    async listByUser(userId) {
      return (await securityKeys.find({ userId }).sort({ createdAt: 1 }).toArray()).map(toKey);
    },
    async recordUse(credentialId, counter, at) {
      const forward = counter === 0 ? { counter: 0 } : { counter: { $lt: counter } };
      const result = await securityKeys.updateOne({ _id: credentialId, ...forward }, { $set: { counter, lastUsedAt: at } });
      return result.matchedCount === 1;
    },
    async remove(userId, credentialId, { keepLastFactor = false } = {}) {
      // Without a transaction, a removal first claims its key; a key another removal has claimed no
      // longer counts as a factor left. Of two removals racing over a user's last two keys, neither
      // then sees one left when a factor must stay: both are refused rather than both going through.
      const now = new Date();
      const claimed = await securityKeys.findOneAndUpdate(
        { _id: credentialId, userId, $or: [{ removingSince: null }, { removingSince: { $lt: new Date(now.getTime() - REMOVAL_CLAIM_MS) } }] },
        { $set: { removingSince: now } },
      );
      if (!claimed) return 'not-found';
      if (keepLastFactor) {
        const otherKey = await securityKeys.findOne({ userId, _id: { $ne: credentialId }, removingSince: null }, { projection: { _id: 1 } });
        const app = otherKey ? null : await secondFactors.findOne({ _id: userId, sealedSecret: { $ne: null } }, { projection: { _id: 1 } });
        if (!otherKey && !app) {
          await securityKeys.updateOne({ _id: credentialId }, { $set: { removingSince: null } });
          return 'last-factor-kept';
        }
      }
      const removed = await securityKeys.deleteOne({ _id: credentialId, userId });
      if (removed.deletedCount === 0) return 'not-found';
      if (await securityKeys.findOne({ userId }, { projection: { _id: 1 } })) return 'removed';
      const last = await secondFactors.deleteOne({ _id: userId, sealedSecret: null });
      return last.deletedCount === 1 ? 'removed-last' : 'removed';
    },
    async countAmong(userIds) {
      if (userIds.length === 0) return new Map();
      const rows = await securityKeys.aggregate<{ _id: string; keys: number }>([{ $match: { userId: { $in: [...userIds] } } }, { $group: { _id: '$userId', keys: { $sum: 1 } } }]).toArray();
      return new Map(rows.map((row) => [row._id, row.keys]));
    },
  };
}
