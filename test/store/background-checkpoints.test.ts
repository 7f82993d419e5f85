import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as endOfTurn } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { sqliteOidcModels } from '../../src/store/sqlite/oidc-models.js';
import { tempDir } from '../support/twofold.js';

/**
 * Checkpoints of the embedded database run on a worker thread (docs/security-model.md, "The embedded
 * store"). Only a checkpoint writes to the database file itself: its size tells whether one ran.
 */
describe('SQLite: checkpoints on a worker thread', () => {
  const NEVER = 3_600_000;
  // 600 turns of two pages or more each: past SQLite's threshold of 1 000 pages for a checkpoint on commit.
  async function writeManyPages(models: ReturnType<typeof sqliteOidcModels>): Promise<void> {
    for (let turn = 0; turn < 600; turn += 1) {
      await models.upsert('Session', `s${turn}`, { accountId: 'u1', filler: 'x'.repeat(6000) }, null);
      await endOfTurn();
    }
  }

  it('leaves the database file alone while the main connection writes, and catches up when the worker checkpoints', async () => {
    const file = path.join(tempDir(), 'twofold.db');
    const { db, checkpoints } = openDatabase(file, { checkpointEveryMs: NEVER });
    try {
      const before = fs.statSync(file).size;
      await writeManyPages(sqliteOidcModels(db));
      expect(fs.statSync(file).size).toBe(before);

      const result = await checkpoints!.now();
      expect(result.log).toBeGreaterThan(1000);
      expect(result.checkpointed).toBe(result.log);
      expect(fs.statSync(file).size).toBeGreaterThan(before + 600 * 6000);
    } finally {
      await checkpoints!.stop();
      db.close();
    }
  });

  it('checkpoints on the main connection as it commits when not asked to', async () => {
    const file = path.join(tempDir(), 'twofold.db');
    const { db, checkpoints } = openDatabase(file);
    try {
      expect(checkpoints).toBeNull();
      const before = fs.statSync(file).size;
      await writeManyPages(sqliteOidcModels(db));
      expect(fs.statSync(file).size).toBeGreaterThan(before);
    } finally {
      db.close();
    }
  });

  it('says so, and goes back to checkpointing on commit, when the worker cannot run', async () => {
    const file = path.join(tempDir(), 'twofold.db');
    let warned: (message: string) => void = () => {};
    const warning = new Promise<string>((resolve) => (warned = resolve));
    const { db, checkpoints } = openDatabase(file, { checkpointEveryMs: NEVER, warn: (message) => warned(message) });
    // The worker opens the file after this: moved away, it fails as it would on a file it may not
    // read. The main connection goes on with the files it holds open.
    const moved = path.join(path.dirname(file), 'moved.db');
    for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(`${file}${suffix}`)) fs.renameSync(`${file}${suffix}`, `${moved}${suffix}`);
    try {
      expect(await warning).toMatch(/background checkpoints stopped .*checkpoints as it writes/);
      const before = fs.statSync(moved).size;
      await writeManyPages(sqliteOidcModels(db));
      expect(fs.statSync(moved).size).toBeGreaterThan(before);
    } finally {
      await checkpoints!.stop();
      db.close();
    }
  });

  const linuxOnly = process.platform === 'linux' ? it : it.skip;
  linuxOnly('runs the worker at the niceness it is given, and leaves the other threads as they were', async () => {
    const threadsAt = (niceness: number) =>
      fs.readdirSync('/proc/self/task').filter((tid) => {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) === niceness;
      });
    const before = threadsAt(13);
    const { db, checkpoints } = openDatabase(path.join(tempDir(), 'twofold.db'), { checkpointEveryMs: NEVER, checkpointNiceness: 13 });
    try {
      await checkpoints!.now();
      expect(threadsAt(13).filter((tid) => !before.includes(tid))).toHaveLength(1);
    } finally {
      await checkpoints!.stop();
      db.close();
    }
  });
});
