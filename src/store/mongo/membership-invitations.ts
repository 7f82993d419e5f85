import crypto from 'node:crypto';
import type { Collection } from 'mongodb';
import type { MembershipInvitation, MembershipInvitationRepository } from '../types.js';

type MembershipInvitationDoc = Omit<MembershipInvitation, 'id'> & { _id: string };

const toInvitation = ({ _id, ...invitation }: MembershipInvitationDoc): MembershipInvitation => ({ ...invitation, id: _id });

export function mongoMembershipInvitations(collection: Collection<MembershipInvitationDoc>): MembershipInvitationRepository {
  return {
    async put(invitation) {
      const doc: MembershipInvitationDoc = { _id: crypto.randomUUID(), ...invitation, createdAt: new Date() };
      // One invitation per user and organization (a unique index): a new one replaces the old.
      await collection.findOneAndReplace({ organizationId: invitation.organizationId, userId: invitation.userId }, doc, { upsert: true });
      return toInvitation(doc);
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
