import mongoose from 'mongoose';
import type { IdentityLinkRepository } from '../types.js';
import { insertUnique, schemaOptions, type Collection } from './database.js';

export interface IdentityLinkDoc {
  issuer: string;
  subject: string;
  userId: string;
  createdAt: Date;
}

export const identityLinkSchema = new mongoose.Schema<IdentityLinkDoc>(
  {
    issuer: { type: String, required: true },
    subject: { type: String, required: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'identity_links' },
);
identityLinkSchema.index({ issuer: 1, subject: 1 }, { unique: true });
identityLinkSchema.index({ issuer: 1, userId: 1 }, { unique: true });
// Erasing an account finds its links by user.
identityLinkSchema.index({ userId: 1 });

export function mongoIdentityLinks(identityLinks: Collection<IdentityLinkDoc>): IdentityLinkRepository {
  return {
    async findUser(issuer, subject) {
      const doc = await identityLinks.findOne({ issuer, subject });
      return doc?.userId ?? null;
    },
    async link(issuer, subject, userId) {
      await insertUnique('identity link', () => identityLinks.insertOne({ issuer, subject, userId, createdAt: new Date() }));
    },
  };
}
