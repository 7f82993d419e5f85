import crypto from 'node:crypto';
import mongoose from 'mongoose';
import type { RememberedBrowser, RememberedBrowserRepository } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export interface RememberedBrowserDoc {
  _id: string;
  userId: string;
  tokenHash: string;
  description: string;
  createdAt: Date;
  expiresAt: Date;
}

export const rememberedBrowserSchema = new mongoose.Schema<RememberedBrowserDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    tokenHash: { type: String, required: true, unique: true },
    description: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'rememberedBrowsers' },
);
rememberedBrowserSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

const toRememberedBrowser = (doc: RememberedBrowserDoc): RememberedBrowser => ({
  id: doc._id,
  userId: doc.userId,
  tokenHash: doc.tokenHash,
  description: doc.description,
  createdAt: doc.createdAt,
  expiresAt: doc.expiresAt,
});

export function mongoRememberedBrowsers(browsers: Collection<RememberedBrowserDoc>): RememberedBrowserRepository {
  return {
    async create(browser) {
      const doc: RememberedBrowserDoc = { _id: crypto.randomUUID(), ...browser };
      await browsers.insertOne(doc);
      return toRememberedBrowser(doc);
    },
    async findByTokenHash(tokenHash) {
      const doc = await browsers.findOne({ tokenHash });
      return doc ? toRememberedBrowser(doc) : null;
    },
    async listByUser(userId) {
      return (await browsers.find({ userId }).sort({ createdAt: -1, _id: 1 }).toArray()).map(toRememberedBrowser);
    },
    async remove(userId, id) {
      return (await browsers.deleteOne({ _id: id, userId })).deletedCount > 0;
    },
    async removeAllOf(userId) {
      return (await browsers.deleteMany({ userId })).deletedCount;
    },
    async purgeExpired(now) {
      return (await browsers.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
    },
  };
}
