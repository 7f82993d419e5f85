import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setImmediate as endOfTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import Koa from 'koa';
import { commitBeforeResponding } from '../../src/http/commit-before-responding.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../support/twofold.js';

/**
 * The embedded store commits once per turn of the event loop (docs/security-model.md, "The embedded
 * store"). Another connection to the same file — as the command line is — tells what is committed.
 */
describe('SQLite: one transaction per turn of the event loop', () => {
  let file: string;
  let store: Store;
  let other: Database.Database;
  const payload = { accountId: 'u1', clientId: 'c1' };
  const committed = (id: string) => other.prepare('SELECT COUNT(*) AS n FROM oidc_models WHERE id = ?').get(id) as { n: number };
  /**
   * Pages written to the write-ahead log so far, each commit adding those it changed: its size in
   * frames (a page and a 24-byte header each, after a 32-byte header). A reader holds it from being
   * started over meanwhile.
   */
  const logFrames = () => (fs.statSync(`${file}-wal`).size - 32) / ((other.pragma('page_size', { simple: true }) as number) + 24);

  beforeEach(() => {
    file = path.join(tempDir(), 'twofold.db');
    store = openSqliteStore(file);
    other = new Database(file);
    other.pragma('busy_timeout = 5000');
  });
  afterEach(async () => {
    other.close();
    await store.close();
  });

  it('commits a write when the turn ends, and at once on flush', async () => {
    await store.oidc.upsert('Session', 's1', payload, null);
    expect(committed('s1').n).toBe(0);
    await endOfTurn();
    expect(committed('s1').n).toBe(1);

    await store.oidc.upsert('Session', 's2', payload, null);
    store.flush();
    expect(committed('s2').n).toBe(1);
  });

  it('writes the pages a turn changed once, however many statements changed them', async () => {
    const frames = async (turns: number, writesPerTurn: number) => {
      const before = logFrames();
      for (let turn = 0; turn < turns; turn += 1) {
        for (let write = 0; write < writesPerTurn; write += 1) await store.oidc.upsert('Session', 'same', { ...payload, n: turn * writesPerTurn + write }, null);
        await endOfTurn();
      }
      return logFrames() - before;
    };
    other.exec('BEGIN');
    other.prepare('SELECT COUNT(*) FROM oidc_models').get();
    const oneTurn = await frames(1, 20);
    const twentyTurns = await frames(20, 1);
    other.exec('COMMIT');
    expect(oneTurn).toBeGreaterThan(0);
    expect(twentyTurns).toBeGreaterThanOrEqual(10 * oneTurn);
  });

  it('writes after reading in the same turn though another connection wrote in between', async () => {
    await store.oidc.upsert('Session', 's1', payload, null);
    await endOfTurn();
    expect(await store.oidc.find('Session', 's1')).not.toBeNull();
    other.prepare("INSERT INTO oidc_models (model, id, payload) VALUES ('Session', 'by-other', '{}')").run();
    await store.oidc.upsert('Session', 's2', payload, null);
    expect(await store.oidc.find('Session', 'by-other')).not.toBeNull();
    store.flush();
    expect(committed('s2').n).toBe(1);
  });

  it('runs a change of several statements whole when another connection wrote since the turn read', async () => {
    const user = await store.users.create({ email: 'ada@city.test', name: 'Ada', passwordHash: null, siteAdmin: false });
    await endOfTurn();
    expect(await store.secondFactors.find(user.id)).toBeNull();
    other.prepare("INSERT INTO oidc_models (model, id, payload) VALUES ('Session', 'by-other', '{}')").run();
    // Its first write is refused (the turn's snapshot is not the latest): it runs again, whole, afresh.
    expect(await store.secondFactors.enable({ userId: user.id, sealedSecret: 's', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: ['h1', 'h2'] })).toBe(true);
    store.flush();
    expect((other.prepare('SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?').get(user.id) as { n: number }).n).toBe(2);
    expect(committed('by-other').n).toBe(1);
  });

  it('writes after a change that only read, though another connection wrote in between', async () => {
    expect(await store.oidc.find('Session', 'none')).toBeNull();
    // A change of several statements that finds nothing to change takes no lock.
    expect(await store.oidc.endSessionsOf('nobody')).toBe(0);
    other.prepare("INSERT INTO oidc_models (model, id, payload) VALUES ('Session', 'by-other', '{}')").run();
    await store.oidc.upsert('Session', 's1', payload, null);
    store.flush();
    expect(committed('s1').n).toBe(1);
  });

  it('keeps a change of several statements all or nothing inside the turn', async () => {
    await store.oidc.upsert('Session', 'kept', payload, null);
    const user = await store.users.create({ email: 'ada@city.test', name: 'Ada', passwordHash: null, siteAdmin: false });
    // Enabling a second factor for a user who does not exist fails on its first insert: nothing of it stays.
    await expect(store.secondFactors.enable({ userId: 'nobody', sealedSecret: 's', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: ['h'] })).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(await store.secondFactors.enable({ userId: user.id, sealedSecret: 's', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: ['h1', 'h2'] })).toBe(true);
    await endOfTurn();
    expect(committed('kept').n).toBe(1);
    expect((other.prepare('SELECT user_id FROM recovery_codes ORDER BY hash').all() as Array<{ user_id: string }>).map((row) => row.user_id)).toStrictEqual([user.id, user.id]);
  });

  it('lets a second store on the same file in this process write at once, and see the first one\'s writes', async () => {
    const second = openSqliteStore(file);
    try {
      await store.oidc.upsert('Session', 'first', payload, null);
      // Were it to wait for the first store's lock, it would fail (database is locked) after the busy timeout.
      await second.oidc.upsert('Session', 'second', payload, null);
      expect(await second.oidc.find('Session', 'first')).not.toBeNull();
      await store.oidc.upsert('Session', 'first again', payload, null);
      expect(await store.oidc.find('Session', 'second')).not.toBeNull();
    } finally {
      await second.close();
    }
  });
});

describe('committing before a response is written', () => {
  it('has the writes of the request in the database when the response starts, not at the end of the turn', async () => {
    const file = path.join(tempDir(), 'twofold.db');
    const store = openSqliteStore(file);
    const other = new Database(file);
    const app = new Koa();
    app.use(commitBeforeResponding(store));
    app.use(async (ctx) => {
      await store.oidc.upsert('AuthorizationCode', 'code-1', { accountId: 'u1', clientId: 'c1' }, null);
      ctx.body = 'code-1';
    });
    let committedWhenWritten: number | undefined;
    const server = http.createServer((req, res) => {
      // Koa writes its response in the turn the handler finished: a commit left to the end of that turn comes after.
      const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
      res.end = ((...args: unknown[]) => {
        committedWhenWritten = (other.prepare('SELECT COUNT(*) AS n FROM oidc_models WHERE id = ?').get('code-1') as { n: number }).n;
        return end(...args);
      }) as typeof res.end;
      void app.callback()(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
      expect(await response.text()).toBe('code-1');
      expect(committedWhenWritten).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      other.close();
      await store.close();
    }
  });
});
