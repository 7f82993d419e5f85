import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig, type Config } from '../../config/index.js';
import { createLogger } from '../../src/log.js';
import { startTwofold, type RunningTwofold } from '../../src/start.js';
import { eventually } from './eventually.js';
import { readMailFilesIn } from './smtp.js';
import type { Store } from '../../src/store/types.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'twofold-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestInstance extends RunningTwofold {
  readonly url: string;
  /** The store underneath, for tests that check what was written (the app itself goes through the application layer). */
  readonly store: RunningTwofold['composition']['store'];
  readonly mailer: RunningTwofold['composition']['mailer'];
  readonly config: Config;
  readonly logLines: string[];
}

/**
 * With MONGODB_URI set, every flow test runs on MongoDB: each instance gets its own database, named
 * after its DATA_DIR so that a restart finds the same one.
 */
function mongoUriFor(dataDir: string): Record<string, string> {
  if (!process.env.MONGODB_URI) return {};
  const url = new URL(process.env.MONGODB_URI);
  url.pathname = `/twofold_test_${crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
  return { MONGODB_URI: url.href };
}

/** Waits for a log line that `matches`; returns it. */
export function waitForLogLine(instance: Pick<TestInstance, 'logLines'>, matches: (line: string) => boolean): Promise<string> {
  return eventually(() => instance.logLines.find(matches));
}

/**
 * A real Twofold on a loopback port, with its own DATA_DIR (reused when given, for restart tests).
 * Log lines are kept so tests can assert that no secret reaches the log.
 */
export async function startTestInstance(env: Record<string, string> = {}): Promise<TestInstance> {
  const port = Number(env.PORT ?? (await freePort()));
  const dataDir = env.DATA_DIR ?? tempDir();
  const config = loadConfig({
    TWOFOLD_DEMO: '0',
    ...mongoUriFor(dataDir),
    ...env,
    PORT: String(port),
    DATA_DIR: dataDir,
    ISSUER: env.ISSUER ?? `http://127.0.0.1:${port}`,
  });
  const logLines: string[] = [];
  const running = await startTwofold(config, createLogger('debug', (line) => logLines.push(line)));
  if (!config.mail.smtpUrl) readMailFilesIn(config.mail.outboxDir);
  return { ...running, url: config.issuer, config, logLines, store: running.composition.store, mailer: running.composition.mailer };
}

/**
 * Runs one statement on an instance's embedded database file, as a test moves time (a date written
 * earlier) where waiting is no option; returns how many rows it changed. SQLite only. The instance's
 * writes of this turn are committed first: its open transaction would hold this one off.
 */
export function writeInDatabase(instance: { readonly config: Config; readonly store: Pick<Store, 'flush'> }, statement: string, ...params: unknown[]): number {
  instance.store.flush();
  const db = new Database(path.join(instance.config.dataDir, 'twofold.db'));
  try {
    return db.prepare(statement).run(...params).changes;
  } finally {
    db.close();
  }
}
