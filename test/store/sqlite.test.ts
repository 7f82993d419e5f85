import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/twofold.js';
import { storeContract } from './contract.js';

storeContract('SQLite', async () => openSqliteStore(path.join(tempDir(), 'twofold.db')));

/** The position of the migration that added security keys: the upgrade below starts from the schema before it. */
const SECURITY_KEYS_MIGRATION = MIGRATIONS.findIndex((migration) => migration.includes('CREATE TABLE security_keys'));

describe('SQLite schema upgrade to security keys', () => {
  it('keeps the authenticator apps and recovery codes saved before it, and their cascade', async () => {
    const file = path.join(tempDir(), 'twofold.db');
    // A database as the version before security keys left it.
    const old = new Database(file);
    old.pragma('foreign_keys = ON');
    MIGRATIONS.slice(0, SECURITY_KEYS_MIGRATION).forEach((migration, index) => {
      old.exec(migration);
      old.pragma(`user_version = ${index + 1}`);
    });
    old.prepare("INSERT INTO users (id, email, name, created_at) VALUES ('u1', 'a@x.test', 'A', 0)").run();
    old.prepare("INSERT INTO second_factors VALUES ('u1', 'sealed', 5, 42, 'k1')").run();
    old.prepare("INSERT INTO recovery_codes (id, user_id, hash) VALUES ('c1', 'u1', 'h1'), ('c2', 'u1', 'h2')").run();
    old.close();

    const store = openSqliteStore(file);
    try {
      const factor = await store.secondFactors.find('u1');
      expect([factor?.sealedSecret, factor?.lastTimeStep, factor?.recoveryCodes.map((code) => code.hash)]).toStrictEqual(['sealed', 42, ['h1', 'h2']]);
      await store.securityKeys.add({ credentialId: 'c', userId: 'u1', name: 'n', publicKey: 'p', counter: 0, transports: [], synced: false }, { recoveryKeyId: 'k', recoveryCodeHashes: [] });
      expect(await store.secondFactors.disable('u1')).toBe(true);
      expect(await store.securityKeys.listByUser('u1')).toStrictEqual([]);
    } finally {
      await store.close();
    }
  });
});
