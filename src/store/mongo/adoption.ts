import mongoose from 'mongoose';
import type { AdoptionRepository } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export interface AdoptionDoc {
  _id: string;
  organizationId: string;
  day: string;
  members: number;
  enrolled: number;
}

export const adoptionSchema = new mongoose.Schema<AdoptionDoc>(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    day: { type: String, required: true },
    members: { type: Number, required: true },
    enrolled: { type: Number, required: true },
  },
  { ...schemaOptions, collection: 'adoptionSnapshots' },
);
adoptionSchema.index({ organizationId: 1, day: 1 });

export function mongoAdoption(snapshots: Collection<AdoptionDoc>): AdoptionRepository {
  return {
    async record(snapshot) {
      await snapshots.updateOne(
        { _id: `${snapshot.organizationId}:${snapshot.day}` },
        { $set: { organizationId: snapshot.organizationId, day: snapshot.day, members: snapshot.members, enrolled: snapshot.enrolled } },
        { upsert: true },
      );
    },
    async list(organizationId, sinceDay) {
      const docs = await snapshots.find({ organizationId, day: { $gte: sinceDay } }).sort({ day: 1 }).toArray();
      return docs.map((doc) => ({ organizationId: doc.organizationId, day: doc.day, members: doc.members, enrolled: doc.enrolled }));
    },
  };
}
