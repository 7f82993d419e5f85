import type { SqliteDatabase } from './database.js';
import type { KeyRepository } from '../types.js';

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
