import crypto from 'node:crypto';
import mongoose from 'mongoose';
import type { RecoveryCode, SecondFactor, SecondFactorRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';
import type { SecurityKeyDoc } from './security-keys.js';

/**
 * Recovery codes are keyed by id inside the document (not an array), so spending one is a plain
 * conditional update on `recoveryCodes.<id>.usedAt` — atomic in MongoDB, and understood by servers
 * that lack `$elemMatch` updates.
 */
export interface SecondFactorDoc {
  _id: string;
  /** Null when the user has only security keys. */
  sealedSecret: string | null;
  enabledAt: Date;
  lastTimeStep: number;
  recoveryKeyId: string;
  recoveryCodes: Record<string, { hash: string; usedAt: Date | null; order: number }>;
}

export const secondFactorSchema = new mongoose.Schema<SecondFactorDoc>(
  {
    _id: { type: String, required: true },
    sealedSecret: { type: String, default: null },
    enabledAt: { type: Date, required: true },
    lastTimeStep: { type: Number, required: true },
    recoveryKeyId: { type: String, required: true },
    recoveryCodes: { type: mongoose.Schema.Types.Mixed, default: {} },
  },
  { ...schemaOptions, collection: 'second_factors' },
);

const newCodes = (hashes: readonly string[]): SecondFactorDoc['recoveryCodes'] =>
  Object.fromEntries(hashes.map((hash, order) => [crypto.randomUUID(), { hash, usedAt: null, order }]));

const codesOf = (doc: Pick<SecondFactorDoc, 'recoveryCodes'>): RecoveryCode[] =>
  Object.entries(doc.recoveryCodes ?? {})
    .sort(([, a], [, b]) => a.order - b.order)
    .map(([id, code]) => ({ id, hash: code.hash, usedAt: code.usedAt ?? null }));

/** Code ids are UUIDs we made; anything else must not reach a field path. */
const isCodeId = (id: string) => /^[0-9a-f-]{36}$/.test(id);

/** The recovery codes live inside the second-factor document, so every change to them is one atomic update. */
export function mongoSecondFactors(secondFactors: Collection<SecondFactorDoc>, securityKeys: Collection<SecurityKeyDoc>): SecondFactorRepository {
  return {
    async find(userId) {
      const doc = await secondFactors.findOne({ _id: userId });
      if (!doc) return null;
      const secondFactor: SecondFactor = {
        userId: doc._id,
        sealedSecret: doc.sealedSecret ?? null,
        enabledAt: doc.enabledAt,
        lastTimeStep: doc.lastTimeStep,
        recoveryKeyId: doc.recoveryKeyId,
        recoveryCodes: codesOf(doc),
      };
      return secondFactor;
    },
    async enrolledAmong(userIds) {
      if (userIds.length === 0) return new Set();
      const docs = await secondFactors.find({ _id: { $in: [...userIds] } }).project<Pick<SecondFactorDoc, '_id'>>({ _id: 1 }).toArray();
      return new Set(docs.map((doc) => doc._id));
    },
    async appsAmong(userIds) {
      if (userIds.length === 0) return new Set();
      const docs = await secondFactors.find({ _id: { $in: [...userIds] }, sealedSecret: { $ne: null } }).project<Pick<SecondFactorDoc, '_id'>>({ _id: 1 }).toArray();
      return new Set(docs.map((doc) => doc._id));
    },
    async recoveryCodesRemaining(userIds) {
      if (userIds.length === 0) return new Map();
      const docs = await secondFactors.find({ _id: { $in: [...userIds] } }).project<Pick<SecondFactorDoc, '_id' | 'recoveryCodes'>>({ recoveryCodes: 1 }).toArray();
      return new Map(docs.map((doc) => [doc._id, codesOf(doc).filter((code) => code.usedAt === null).length]));
    },
    async enable(secondFactor) {
      try {
        await secondFactors.insertOne({
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
      const result = await secondFactors.updateOne({ _id: userId, lastTimeStep: { $lt: timeStep } }, { $set: { lastTimeStep: timeStep } });
      return result.modifiedCount === 1;
    },
    async replaceSecret(userId, sealedSecret, lastTimeStep) {
      const result = await secondFactors.updateOne({ _id: userId }, { $set: { sealedSecret, lastTimeStep } });
      return result.matchedCount === 1;
    },
    async useRecoveryCode(userId, codeId) {
      if (!isCodeId(codeId)) return false;
      const usedAt = `recoveryCodes.${codeId}.usedAt`;
      const result = await secondFactors.updateOne({ _id: userId, [usedAt]: null, [`recoveryCodes.${codeId}.hash`]: { $exists: true } }, { $set: { [usedAt]: new Date() } });
      return result.modifiedCount === 1;
    },
    async replaceRecoveryCodes(userId, recoveryKeyId, hashes) {
      const result = await secondFactors.updateOne({ _id: userId }, { $set: { recoveryKeyId, recoveryCodes: newCodes(hashes) } });
      return result.matchedCount === 1;
    },
    async disable(userId) {
      const result = await secondFactors.deleteOne({ _id: userId });
      const keys = await securityKeys.deleteMany({ userId });
      return result.deletedCount === 1 || keys.deletedCount > 0;
    },
  };
}
