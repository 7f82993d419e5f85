import crypto from 'node:crypto';
import type { Collection } from 'mongodb';
import type {
  AttemptRepository,
  PendingEnrollment,
  PendingEnrollmentRepository,
  RecoveryCode,
  SecondFactor,
  SecondFactorRepository,
} from '../types.js';
import { isDuplicateKey } from './schemas.js';

/**
 * Recovery codes are keyed by id inside the document (not an array), so spending one is a plain
 * conditional update on `recoveryCodes.<id>.usedAt` — atomic in MongoDB, and understood by servers
 * that lack `$elemMatch` updates.
 */
interface SecondFactorDoc {
  _id: string;
  sealedSecret: string;
  enabledAt: Date;
  lastTimeStep: number;
  recoveryKeyId: string;
  recoveryCodes: Record<string, { hash: string; usedAt: Date | null; order: number }>;
}

interface EnrollmentDoc {
  _id: string;
  userId: string;
  sealedSecret: string | null;
  sealedRecoveryCodes: string | null;
  expiresAt: Date;
}

interface AttemptDoc {
  _id: string;
  count: number;
  lockedUntil: Date | null;
  forgetAt: Date;
}

const newCodes = (hashes: readonly string[]): SecondFactorDoc['recoveryCodes'] =>
  Object.fromEntries(hashes.map((hash, order) => [crypto.randomUUID(), { hash, usedAt: null, order }]));

const codesOf = (doc: SecondFactorDoc): RecoveryCode[] =>
  Object.entries(doc.recoveryCodes ?? {})
    .sort(([, a], [, b]) => a.order - b.order)
    .map(([id, code]) => ({ id, hash: code.hash, usedAt: code.usedAt ?? null }));

/** Code ids are UUIDs we made; anything else must not reach a field path. */
const isCodeId = (id: string) => /^[0-9a-f-]{36}$/.test(id);

/** The recovery codes live inside the second-factor document, so every change to them is one atomic update. */
export function mongoSecondFactors(collection: Collection<SecondFactorDoc>): SecondFactorRepository {
  return {
    async find(userId) {
      const doc = await collection.findOne({ _id: userId });
      if (!doc) return null;
      const secondFactor: SecondFactor = {
        userId: doc._id,
        sealedSecret: doc.sealedSecret,
        enabledAt: doc.enabledAt,
        lastTimeStep: doc.lastTimeStep,
        recoveryKeyId: doc.recoveryKeyId,
        recoveryCodes: codesOf(doc),
      };
      return secondFactor;
    },
    async enrolledAmong(userIds) {
      if (userIds.length === 0) return new Set();
      const docs = await collection.find({ _id: { $in: [...userIds] } }, { projection: { _id: 1 } }).toArray();
      return new Set(docs.map((doc) => doc._id));
    },
    async enable(secondFactor) {
      try {
        await collection.insertOne({
          _id: secondFactor.userId,
          sealedSecret: secondFactor.sealedSecret,
          enabledAt: new Date(),
          lastTimeStep: secondFactor.lastTimeStep,
          recoveryKeyId: secondFactor.recoveryKeyId,
          recoveryCodes: newCodes(secondFactor.recoveryCodeHashes),
        });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async acceptTimeStep(userId, timeStep) {
      const result = await collection.updateOne({ _id: userId, lastTimeStep: { $lt: timeStep } }, { $set: { lastTimeStep: timeStep } });
      return result.modifiedCount === 1;
    },
    async useRecoveryCode(userId, codeId) {
      if (!isCodeId(codeId)) return false;
      const usedAt = `recoveryCodes.${codeId}.usedAt`;
      const result = await collection.updateOne({ _id: userId, [usedAt]: null, [`recoveryCodes.${codeId}.hash`]: { $exists: true } }, { $set: { [usedAt]: new Date() } });
      return result.modifiedCount === 1;
    },
    async replaceRecoveryCodes(userId, recoveryKeyId, hashes) {
      const result = await collection.updateOne({ _id: userId }, { $set: { recoveryKeyId, recoveryCodes: newCodes(hashes) } });
      return result.matchedCount === 1;
    },
    async disable(userId) {
      const result = await collection.deleteOne({ _id: userId });
      return result.deletedCount === 1;
    },
  };
}

export function mongoEnrollments(collection: Collection<EnrollmentDoc>): PendingEnrollmentRepository {
  return {
    async put(enrollment: PendingEnrollment) {
      const { id, ...rest } = enrollment;
      await collection.replaceOne({ _id: id }, rest, { upsert: true });
    },
    async find(id) {
      const doc = await collection.findOne({ _id: id, expiresAt: { $gt: new Date() } });
      return doc
        ? { id: doc._id, userId: doc.userId, sealedSecret: doc.sealedSecret ?? null, sealedRecoveryCodes: doc.sealedRecoveryCodes ?? null, expiresAt: doc.expiresAt }
        : null;
    },
    async delete(id) {
      await collection.deleteOne({ _id: id });
    },
  };
}

/**
 * Two single-document updates, each atomic, and nothing that needs aggregation-pipeline updates (so
 * MongoDB-compatible servers work too): clear a lock that has run out, then count. Two requests
 * arriving as a lock runs out may both clear it; they still count 1 and 2.
 */
export function mongoAttempts(collection: Collection<AttemptDoc>): AttemptRepository {
  const countOnce = (key: string, forgetAt: Date) =>
    collection.findOneAndUpdate(
      { _id: key },
      { $inc: { count: 1 }, $max: { forgetAt }, $setOnInsert: { lockedUntil: null } },
      { upsert: true, returnDocument: 'after' },
    );
  return {
    async charge(key, now, forgetAt) {
      await collection.updateOne({ _id: key, lockedUntil: { $ne: null, $lte: now } }, { $set: { count: 0, lockedUntil: null } });
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
      const doc = await collection.findOne({ _id: key, forgetAt: { $gt: now }, $or: [{ lockedUntil: null }, { lockedUntil: { $gt: now } }] });
      return doc ? { count: doc.count, lockedUntil: doc.lockedUntil ?? null } : null;
    },
    async lock(key, until, now) {
      const result = await collection.updateOne(
        { _id: key, $or: [{ lockedUntil: null }, { lockedUntil: { $lte: now } }] },
        { $set: { lockedUntil: until }, $max: { forgetAt: until } },
      );
      return result.modifiedCount === 1;
    },
    async reset(key) {
      await collection.deleteOne({ _id: key });
    },
    async purgeExpired(now = new Date()) {
      const result = await collection.deleteMany({ forgetAt: { $lte: now } });
      return result.deletedCount;
    },
  };
}

export type { AttemptDoc, EnrollmentDoc, SecondFactorDoc };
