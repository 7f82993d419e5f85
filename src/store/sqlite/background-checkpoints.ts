import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** What `PRAGMA wal_checkpoint` reports: frames in the write-ahead log, and how many of them are now in the database file. */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

export interface BackgroundCheckpoints {
  /** Checkpoints at once, on the worker's thread; for tests and for the end of a bulk change. */
  now(): Promise<CheckpointResult>;
  stop(): Promise<void>;
}

/** SQLite's own default, restored on the main connection when the worker is gone. */
const AUTOCHECKPOINT_PAGES = 1000;

// A plain script, so that it runs the same from the sources, the build and the tests. It lowers its
// own priority as the pool's threads are (docs/security-model.md, "Background threads"). A passive
// checkpoint never waits for a lock and never blocks a writer: one that finds another checkpoint
// running tries again next time.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.niceness > 0 && process.platform === 'linux') {
  const thread = require('node:fs').readlinkSync('/proc/thread-self');
  require('node:os').setPriority(Number(thread.slice(thread.lastIndexOf('/') + 1)), workerData.niceness);
}
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
const timer = setInterval(() => {
  try { checkpoint(); } catch (error) { if (error.code !== 'SQLITE_BUSY') throw error; }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'now') return parentPort.postMessage(checkpoint());
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Moves the write-ahead log's checkpoints off the thread that answers requests
 * (docs/security-model.md, "The embedded store"): the main connection no longer checkpoints as it
 * commits, and a worker thread with a connection of its own does every `intervalMs`. A checkpoint
 * copies the log's pages into the database file and waits for the disk twice; on the main thread
 * it held up whichever request's commit crossed SQLite's threshold by tens of milliseconds.
 *
 * Should the worker fail, the main connection checkpoints as it did before and `warn` says so.
 */
export function checkpointInBackground(
  db: Database.Database,
  { intervalMs, niceness, warn }: { intervalMs: number; niceness: number; warn: (message: string) => void },
): BackgroundCheckpoints {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { file: db.name, driver: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs, niceness },
  });
  worker.unref();
  db.pragma('wal_autocheckpoint = 0');

  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fallBack = (reason: string) => {
    if (stopping || !db.open) return;
    stopping = true;
    db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    warn(`The embedded database's background checkpoints stopped (${reason}); the server now checkpoints as it writes, which is slower but safe.`);
  };
  worker.on('error', (error) => fallBack(error.message));
  worker.on('exit', (code) => fallBack(`the worker exited with ${code}`));

  return {
    now: () =>
      new Promise<CheckpointResult>((resolve, reject) => {
        worker.ref();
        worker.once('error', reject);
        worker.once('message', (result: CheckpointResult) => {
          worker.off('error', reject);
          worker.unref();
          resolve(result);
        });
        worker.postMessage('now');
      }),
    async stop() {
      if (!stopping) {
        stopping = true;
        // Unreferenced, the worker would let a process that has nothing else left end before it closes.
        worker.ref();
        worker.postMessage('stop');
      }
      await exited;
    },
  };
}
