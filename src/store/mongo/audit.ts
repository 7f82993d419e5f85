import crypto from 'node:crypto';
import mongoose from 'mongoose';
import type { AuditEvent, AuditRepository } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export type AuditDoc = Omit<AuditEvent, 'id'> & { _id: string; seq: number };

export const auditSchema = new mongoose.Schema<AuditDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, default: null },
    at: { type: Date, required: true },
    seq: { type: Number, required: true },
    action: { type: String, required: true },
    actorId: { type: String, default: null },
    actorEmail: { type: String, default: null },
    targetId: { type: String, default: null },
    targetEmail: { type: String, default: null },
    ip: { type: String, default: null },
    details: { type: mongoose.Schema.Types.Mixed, default: {} },
  },
  { ...schemaOptions, collection: 'audit_events', minimize: false },
);
auditSchema.index({ organizationId: 1, seq: -1 });
auditSchema.index({ at: 1 });
// Erasing an account finds the entries it acted in or was the target of.
auditSchema.index({ actorId: 1 }, { sparse: true });
auditSchema.index({ targetId: 1 }, { sparse: true });

export function mongoAudit(auditEvents: Collection<AuditDoc>): AuditRepository {
  return {
    async append(events) {
      if (events.length === 0) return;
      const at = new Date();
      // seq keeps the order of events written in the same millisecond.
      await auditEvents.insertMany(events.map((event, index) => ({ ...event, _id: crypto.randomUUID(), at, seq: at.getTime() * 1000 + index })));
    },
    async list(organizationId, { limit, offset }) {
      const [docs, total] = await Promise.all([
        auditEvents.find({ organizationId }).sort({ seq: -1 }).skip(offset).limit(limit).toArray(),
        auditEvents.countDocuments({ organizationId }),
      ]);
      return {
        events: docs.map(({ _id, seq: _seq, ...event }) => ({ ...event, id: _id })),
        total,
      };
    },
    async deleteOlderThan(before) {
      const result = await auditEvents.deleteMany({ at: { $lt: before } });
      return result.deletedCount;
    },
  };
}
