import type { SqliteDatabase } from './database.js';
import type { KeyRepository, SettingsRepository } from '../types.js';

export function sqliteSettings(db: SqliteDatabase): SettingsRepository {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const set = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return {
    async get(key) {
      return get.get(key)?.value ?? null;
    },
    async set(key, value) {
      set.run(key, value);
    },
  };
}

export function sqliteKeys(db: SqliteDatabase): KeyRepository {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM keys WHERE name = ?');
  const insertIfAbsent = db.prepare('INSERT INTO keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING');
  return {
    async getOrCreate(name, create) {
      const existing = get.get(name);
      if (existing) return existing.value;
      insertIfAbsent.run(name, create());
      return get.get(name)!.value;
    },
  };
}
