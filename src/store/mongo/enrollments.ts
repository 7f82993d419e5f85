import mongoose from 'mongoose';
import type { PendingEnrollment, PendingEnrollmentRepository } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export interface EnrollmentDoc {
  _id: string;
  userId: string;
  sealedSecret: string | null;
  sealedRecoveryCodes: string | null;
  expiresAt: Date;
}

export const enrollmentSchema = new mongoose.Schema<EnrollmentDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    sealedSecret: { type: String, default: null },
    sealedRecoveryCodes: { type: String, default: null },
    expiresAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'pending_enrollments' },
);
enrollmentSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export function mongoEnrollments(enrollments: Collection<EnrollmentDoc>): PendingEnrollmentRepository {
  return {
    async put(enrollment: PendingEnrollment) {
      const { id, ...rest } = enrollment;
      await enrollments.replaceOne({ _id: id }, rest, { upsert: true });
    },
    async find(id) {
      const doc = await enrollments.findOne({ _id: id, expiresAt: { $gt: new Date() } });
      return doc
        ? { id: doc._id, userId: doc.userId, sealedSecret: doc.sealedSecret ?? null, sealedRecoveryCodes: doc.sealedRecoveryCodes ?? null, expiresAt: doc.expiresAt }
        : null;
    },
    async delete(id) {
      await enrollments.deleteOne({ _id: id });
    },
  };
}
