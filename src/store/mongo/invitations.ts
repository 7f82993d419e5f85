import mongoose from 'mongoose';
import type { InvitationRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

/** Keyed by the SHA-256 of the emailed token. */
export interface InvitationDoc {
  _id: string;
  userId: string;
  expiresAt: Date;
}

export const invitationSchema = new mongoose.Schema<InvitationDoc>(
  { _id: { type: String, required: true }, userId: { type: String, required: true }, expiresAt: { type: Date, required: true } },
  { ...schemaOptions, collection: 'invitations' },
);
invitationSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export function mongoInvitations(invitations: Collection<InvitationDoc>): InvitationRepository {
  return {
    async create(tokenHash, userId, expiresAt) {
      try {
        await invitations.insertOne({ _id: tokenHash, userId, expiresAt });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        throw new Error('invitation token collision');
      }
    },
    async consume(tokenHash, now = new Date()) {
      const doc = await invitations.findOneAndDelete({ _id: tokenHash, expiresAt: { $gt: now } });
      return doc?.userId ?? null;
    },
    async find(tokenHash, now = new Date()) {
      const doc = await invitations.findOne({ _id: tokenHash, expiresAt: { $gt: now } });
      return doc?.userId ?? null;
    },
    async removeAllOf(userId) {
      return (await invitations.deleteMany({ userId })).deletedCount;
    },
  };
}
