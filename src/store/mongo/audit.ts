import crypto from 'node:crypto';
import type { Collection } from 'mongodb';
import type { AuditEvent, AuditRepository, InvitationRepository } from '../types.js';
import { isDuplicateKey } from './schemas.js';

type AuditDoc = Omit<AuditEvent, 'id'> & { _id: string; seq: number };

interface InvitationDoc {
  _id: string;
  userId: string;
  expiresAt: Date;
}

export function mongoAudit(collection: Collection<AuditDoc>): AuditRepository {
  return {
    async append(events) {
      if (events.length === 0) return;
      const at = new Date();
      // seq keeps the order of events written in the same millisecond.
      await collection.insertMany(events.map((event, index) => ({ ...event, _id: crypto.randomUUID(), at, seq: at.getTime() * 1000 + index })));
    },
    async list(organizationId, { limit, offset }) {
      const [docs, total] = await Promise.all([
        collection.find({ organizationId }).sort({ seq: -1 }).skip(offset).limit(limit).toArray(),
        collection.countDocuments({ organizationId }),
      ]);
      return {
        events: docs.map(({ _id, seq: _seq, ...event }) => ({ ...event, id: _id })),
        total,
      };
    },
  };
}

export function mongoInvitations(collection: Collection<InvitationDoc>): InvitationRepository {
  return {
    async create(tokenHash, userId, expiresAt) {
      try {
        await collection.insertOne({ _id: tokenHash, userId, expiresAt });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        throw new Error('invitation token collision');
      }
    },
    async consume(tokenHash, now = new Date()) {
      const doc = await collection.findOneAndDelete({ _id: tokenHash, expiresAt: { $gt: now } });
      return doc?.userId ?? null;
    },
    async find(tokenHash, now = new Date()) {
      const doc = await collection.findOne({ _id: tokenHash, expiresAt: { $gt: now } });
      return doc?.userId ?? null;
    },
  };
}

export type { AuditDoc, InvitationDoc };
