import mongoose from 'mongoose';
import type { SettingsRepository } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

export interface SettingDoc {
  _id: string;
  value: string;
}

export const settingSchema = new mongoose.Schema<SettingDoc>(
  { _id: { type: String, required: true }, value: { type: String, required: true } },
  { ...schemaOptions, collection: 'settings' },
);

export function mongoSettings(settings: Collection<SettingDoc>): SettingsRepository {
  return {
    async get(key) {
      const doc = await settings.findOne({ _id: key });
      return doc?.value ?? null;
    },
    async set(key, value) {
      await settings.updateOne({ _id: key }, { $set: { value } }, { upsert: true });
    },
  };
}
