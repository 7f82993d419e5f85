import type { SqliteDatabase } from './database.js';
import type { AdoptionRepository, AdoptionSnapshot } from '../types.js';

interface AdoptionRow {
  organization_id: string;
  day: string;
  members: number;
  enrolled: number;
}

export function sqliteAdoption(db: SqliteDatabase): AdoptionRepository {
  const upsert = db.prepare(`
    INSERT INTO adoption_snapshots (organization_id, day, members, enrolled) VALUES (?, ?, ?, ?)
    ON CONFLICT (organization_id, day) DO UPDATE SET members = excluded.members, enrolled = excluded.enrolled`);
  const since = db.prepare<[string, string], AdoptionRow>('SELECT * FROM adoption_snapshots WHERE organization_id = ? AND day >= ? ORDER BY day');
  return {
    async record(snapshot) {
      upsert.run(snapshot.organizationId, snapshot.day, snapshot.members, snapshot.enrolled);
    },
    async list(organizationId, sinceDay) {
      return since.all(organizationId, sinceDay).map((row): AdoptionSnapshot => ({ organizationId: row.organization_id, day: row.day, members: row.members, enrolled: row.enrolled }));
    },
  };
}
