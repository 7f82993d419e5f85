import mongoose from 'mongoose';
import type { Membership, MembershipRepository, Role } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export interface MembershipDoc {
  organizationId: string;
  userId: string;
  role: Role;
  createdAt: Date;
}

export const membershipSchema = new mongoose.Schema<MembershipDoc>(
  {
    organizationId: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    role: { type: String, required: true, enum: ['owner', 'member'] },
    createdAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'memberships' },
);
membershipSchema.index({ organizationId: 1, userId: 1 }, { unique: true });
// An organization's owners without reading its members: the challenge page of every sign-in names them.
membershipSchema.index({ organizationId: 1, createdAt: 1 }, { partialFilterExpression: { role: 'owner' } });

const toMembership = (doc: MembershipDoc): Membership => ({
  organizationId: doc.organizationId,
  userId: doc.userId,
  role: doc.role,
  createdAt: doc.createdAt,
});

export function mongoMemberships(memberships: Collection<MembershipDoc>): MembershipRepository {
  return {
    async put(organizationId, userId, role) {
      const doc = await memberships.findOneAndUpdate(
        { organizationId, userId },
        { $set: { role }, $setOnInsert: { createdAt: new Date() } },
        { upsert: true, returnDocument: 'after' },
      );
      return toMembership(doc!);
    },
    async putMany(entries) {
      if (entries.length === 0) return;
      const now = new Date();
      await memberships.bulkWrite(entries.map(({ organizationId, userId, role }) => ({
        updateOne: { filter: { organizationId, userId }, update: { $set: { role }, $setOnInsert: { createdAt: now } }, upsert: true },
      })), { ordered: false });
    },
    async remove(organizationId, userId) {
      const result = await memberships.deleteOne({ organizationId, userId });
      return result.deletedCount === 1;
    },
    async find(organizationId, userId) {
      const doc = await memberships.findOne({ organizationId, userId });
      return doc ? toMembership(doc) : null;
    },
    async listByUser(userId) {
      const docs = await memberships.find({ userId }).sort({ createdAt: 1 }).toArray();
      return docs.map(toMembership);
    },
    async listByOrganization(organizationId) {
      const docs = await memberships.find({ organizationId }).sort({ createdAt: 1 }).toArray();
      return docs.map(toMembership);
    },
    async listByUsers(userIds) {
      if (userIds.length === 0) return [];
      const docs = await memberships.find({ userId: { $in: [...userIds] } }).sort({ createdAt: 1 }).toArray();
      return docs.map(toMembership);
    },
    async listOwners(organizationIds) {
      if (organizationIds.length === 0) return [];
      const docs = await memberships.find({ organizationId: { $in: [...organizationIds] }, role: 'owner' }).sort({ createdAt: 1 }).toArray();
      return docs.map(toMembership);
    },
    async countAdoption(organizationId, among) {
      const filter = among === 'all' ? { organizationId } : { organizationId, role: 'owner' as const };
      const [members, enrolled] = await Promise.all([
        memberships.countDocuments(filter),
        memberships.aggregate<{ enrolled: number }>([
          { $match: filter },
          { $lookup: { from: 'second_factors', localField: 'userId', foreignField: '_id', as: 'factor' } },
          { $match: { 'factor.0': { $exists: true } } },
          { $count: 'enrolled' },
        ]).toArray(),
      ]);
      return { members, enrolled: enrolled[0]?.enrolled ?? 0 };
    },
  };
}
