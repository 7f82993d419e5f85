import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { checkpointInBackground, type BackgroundCheckpoints } from './background-checkpoints.js';
import { turnTransactions, type SqliteDatabase } from './turn-transactions.js';

export type { SqliteDatabase } from './turn-transactions.js';

export interface DatabaseOptions {
  /** Checkpoint on a worker thread this often instead of on the main thread as it commits (see checkpointInBackground). */
  readonly checkpointEveryMs?: number;
  /** The checkpointing thread's Linux niceness (docs/security-model.md, "Background threads"). */
  readonly checkpointNiceness?: number;
  /** Where a problem the server works around goes: the operator's log. */
  readonly warn?: (message: string) => void;
}

/**
 * Opens (creating if needed) the embedded database in WAL mode and brings its schema up to date;
 * with `checkpointEveryMs`, its checkpoints run on a worker thread.
 */
export function openDatabase(file: string, { checkpointEveryMs, checkpointNiceness = 0, warn = () => {} }: DatabaseOptions = {}): { db: SqliteDatabase; checkpoints: BackgroundCheckpoints | null } {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return {
    db: turnTransactions(db),
    checkpoints: checkpointEveryMs === undefined ? null : checkpointInBackground(db, { intervalMs: checkpointEveryMs, niceness: checkpointNiceness, warn }),
  };
}

function migrate(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > MIGRATIONS.length) {
    throw new Error(`The database at ${db.name} was written by a newer Twofold (schema ${applied}, this one knows ${MIGRATIONS.length}).`);
  }
  for (let version = applied; version < MIGRATIONS.length; version += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
    || (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
