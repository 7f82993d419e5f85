import type { SqliteDatabase } from './database.js';
import type { SettingsRepository } from '../types.js';

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
