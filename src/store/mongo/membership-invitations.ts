import crypto from 'node:crypto';
import mongoose from 'mongoose';
import type { MembershipInvitation, MembershipInvitationRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

export type MembershipInvitationDoc = Omit<MembershipInvitation, 'id'> & { _id: string };

export const membershipInvitationSchema = new mongoose.Schema<MembershipInvitationDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    role: { type: String, required: true, enum: ['owner', 'member'] },
    invitedBy: { type: String, default: null },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'membership_invitations' },
);
membershipInvitationSchema.index({ organizationId: 1, userId: 1 }, { unique: true });
membershipInvitationSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

const toInvitation = ({ _id, ...invitation }: MembershipInvitationDoc): MembershipInvitation => ({ ...invitation, id: _id });

export function mongoMembershipInvitations(membershipInvitations: Collection<MembershipInvitationDoc>): MembershipInvitationRepository {
  return {
    async put(invitation) {
      const doc: MembershipInvitationDoc = { _id: crypto.randomUUID(), ...invitation, createdAt: new Date() };
      // One invitation per user and organization (a unique index): a new one, with a new id, replaces the
      // old. A replacement cannot change _id, so the old one is deleted first; of two racing puts, the
      // loser's insert meets the index and goes again.
      for (let attempt = 0; ; attempt += 1) {
        await membershipInvitations.deleteMany({ organizationId: invitation.organizationId, userId: invitation.userId });
        try {
          await membershipInvitations.insertOne(doc);
          return toInvitation(doc);
        } catch (error) {
          if (!isDuplicateKey(error) || attempt > 0) throw error;
        }
      }
    },
    async find(id, now = new Date()) {
      const doc = await membershipInvitations.findOne({ _id: id, expiresAt: { $gt: now } });
      return doc ? toInvitation(doc) : null;
    },
    async listByUser(userId, now = new Date()) {
      return (await membershipInvitations.find({ userId, expiresAt: { $gt: now } }).sort({ createdAt: 1 }).toArray()).map(toInvitation);
    },
    async listByOrganization(organizationId, now = new Date()) {
      return (await membershipInvitations.find({ organizationId, expiresAt: { $gt: now } }).sort({ createdAt: 1 }).toArray()).map(toInvitation);
    },
    async take(id, now = new Date()) {
      const doc = await membershipInvitations.findOneAndDelete({ _id: id, expiresAt: { $gt: now } });
      return doc ? toInvitation(doc) : null;
    },
  };
}
