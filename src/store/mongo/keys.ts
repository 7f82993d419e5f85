import mongoose from 'mongoose';
import type { KeyRepository } from '../types.js';
import { isDuplicateKey, schemaOptions, type Collection } from './database.js';

export interface KeyDoc {
  _id: string;
  value: string;
}

export const keySchema = new mongoose.Schema<KeyDoc>(
  { _id: { type: String, required: true }, value: { type: String, required: true } },
  { ...schemaOptions, collection: 'keys' },
);

export function mongoKeys(keys: Collection<KeyDoc>): KeyRepository {
  return {
    async getOrCreate(name, create) {
      const existing = await keys.findOne({ _id: name });
      if (existing) return existing.value;
      try {
        await keys.insertOne({ _id: name, value: create() });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const winner = await keys.findOne({ _id: name });
      return winner!.value;
    },
  };
}
