import crypto from 'node:crypto';
import mongoose from 'mongoose';
import { DuplicateError, type User, type UserRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

export interface UserDoc {
  _id: string;
  email: string;
  name: string;
  passwordHash: string | null;
  siteAdmin: boolean;
  /** Missing on accounts written before managed accounts existed (see migrations.ts). */
  managedBy?: string | null;
  createdAt: Date;
  lastSignInAt: Date | null;
  /** Missing on accounts written before suspension existed: they are active. */
  suspendedAt?: Date | null;
}

export const userSchema = new mongoose.Schema<UserDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    passwordHash: { type: String, default: null },
    siteAdmin: { type: Boolean, default: false },
    managedBy: { type: String, default: null },
    createdAt: { type: Date, required: true },
    lastSignInAt: { type: Date, default: null },
    suspendedAt: { type: Date, default: null },
  },
  { ...schemaOptions, collection: 'users' },
);

const toUser = (doc: UserDoc): User => ({
  id: doc._id,
  email: doc.email,
  name: doc.name,
  passwordHash: doc.passwordHash ?? null,
  siteAdmin: doc.siteAdmin === true,
  managedBy: doc.managedBy ?? null,
  createdAt: doc.createdAt,
  lastSignInAt: doc.lastSignInAt ?? null,
  suspendedAt: doc.suspendedAt ?? null,
});

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function mongoUsers(users: Collection<UserDoc>): UserRepository {
  return {
    async create(user) {
      return (await this.createMany([user]))[0]!;
    },
    async createMany(newUsers) {
      const docs: UserDoc[] = newUsers.map((user) => ({
        _id: crypto.randomUUID(),
        email: user.email.toLowerCase(),
        name: user.name,
        passwordHash: user.passwordHash,
        siteAdmin: user.siteAdmin,
        managedBy: user.managedBy ?? null,
        createdAt: new Date(),
        lastSignInAt: null,
        suspendedAt: null,
      }));
      if (docs.length === 0) return [];
      try {
        await users.insertMany(docs, { ordered: true });
      } catch (error) {
        // No multi-document transaction without a replica set: undo the part of the batch that got in.
        await users.deleteMany({ _id: { $in: docs.map((doc) => doc._id) } });
        if (isDuplicateKey(error)) throw new DuplicateError('email');
        throw error;
      }
      return docs.map(toUser);
    },
    async findById(id) {
      const doc = await users.findOne({ _id: id });
      return doc ? toUser(doc) : null;
    },
    async findByEmail(email) {
      const doc = await users.findOne({ email: email.toLowerCase() });
      return doc ? toUser(doc) : null;
    },
    async findByIds(ids) {
      if (ids.length === 0) return [];
      const docs = await users.find({ _id: { $in: ids } }).sort({ email: 1 }).toArray();
      return docs.map(toUser);
    },
    async search(text, { limit, offset }) {
      const pattern = escapeRegex(text.trim().toLowerCase());
      const filter = { $or: [{ email: { $regex: pattern } }, { name: { $regex: pattern, $options: 'i' } }] };
      const [docs, total] = await Promise.all([
        users.find(filter).sort({ email: 1 }).skip(offset).limit(limit).toArray(),
        users.countDocuments(filter),
      ]);
      return { users: docs.map(toUser), total };
    },
    async listManagedBy(organizationId) {
      const docs = await users.find({ managedBy: organizationId }).sort({ email: 1 }).toArray();
      return docs.map(toUser);
    },
    async updatePasswordHash(id, passwordHash) {
      await users.updateOne({ _id: id }, { $set: { passwordHash } });
    },
    async setManagedBy(id, organizationId) {
      await users.updateOne({ _id: id }, { $set: organizationId === null ? { managedBy: null } : { managedBy: organizationId, passwordHash: null } });
    },
    async listByEmailDomain(domain, limit) {
      const filter = { email: { $regex: `@${escapeRegex(domain.toLowerCase())}$` } };
      const [docs, total] = await Promise.all([
        users.find(filter).sort({ email: 1 }).limit(limit).toArray(),
        users.countDocuments(filter),
      ]);
      return { users: docs.map(toUser), total };
    },
    async recordSignIn(id, at) {
      await users.updateOne({ _id: id }, { $set: { lastSignInAt: at } });
    },
    async count() {
      return users.estimatedDocumentCount();
    },
    async suspend(id, at) {
      // `suspendedAt: null` also matches accounts written before the field existed.
      const suspended = await users.findOneAndUpdate({ _id: id, suspendedAt: null }, { $set: { suspendedAt: at } }, { returnDocument: 'after' });
      if (!suspended) return (await users.findOne({ _id: id }, { projection: { _id: 1 } })) ? 'already-suspended' : 'not-found';
      // No multi-document transaction: the count follows the write, and the write is undone when it left no active site admin.
      if (suspended.siteAdmin && (await users.countDocuments({ siteAdmin: true, suspendedAt: null })) === 0) {
        await users.updateOne({ _id: id, suspendedAt: at }, { $set: { suspendedAt: null } });
        return 'last-site-admin';
      }
      return 'suspended';
    },
    async reactivate(id) {
      const result = await users.updateOne({ _id: id, suspendedAt: { $ne: null } }, { $set: { suspendedAt: null } });
      return result.modifiedCount === 1;
    },
  };
}
