import crypto from 'node:crypto';
import type { Collection } from 'mongodb';
import type { MembershipInvitation, MembershipInvitationRepository } from '../types.js';
import { isDuplicateKey } from './schemas.js';

type MembershipInvitationDoc = Omit<MembershipInvitation, 'id'> & { _id: string };

const toInvitation = ({ _id, ...invitation }: MembershipInvitationDoc): MembershipInvitation => ({ ...invitation, id: _id });

export function mongoMembershipInvitations(collection: Collection<MembershipInvitationDoc>): MembershipInvitationRepository {
  return {
    async put(invitation) {
      const doc: MembershipInvitationDoc = { _id: crypto.randomUUID(), ...invitation, createdAt: new Date() };
      // One invitation per user and organization (a unique index): a new one, with a new id, replaces the
      // old. A replacement cannot change _id, so the old one is deleted first; of two racing puts, the
      // loser's insert meets the index and goes again.
      for (let attempt = 0; ; attempt += 1) {
        await collection.deleteMany({ organizationId: invitation.organizationId, userId: invitation.userId });
        try {
          await collection.insertOne(doc);
          return toInvitation(doc);
        } catch (error) {
          if (!isDuplicateKey(error) || attempt > 0) throw error;
        }
      }
    },
    async find(id, now = new Date()) {
      const doc = await collection.findOne({ _id: id, expiresAt: { $gt: now } });
      return doc ? toInvitation(doc) : null;
    },
    async listByUser(userId, now = new Date()) {
      return (await collection.find({ userId, expiresAt: { $gt: now } }).sort({ createdAt: 1 }).toArray()).map(toInvitation);
    },
    async listByOrganization(organizationId, now = new Date()) {
      return (await collection.find({ organizationId, expiresAt: { $gt: now } }).sort({ createdAt: 1 }).toArray()).map(toInvitation);
    },
    async take(id, now = new Date()) {
      const doc = await collection.findOneAndDelete({ _id: id, expiresAt: { $gt: now } });
      return doc ? toInvitation(doc) : null;
    },
  };
}

export type { MembershipInvitationDoc };
