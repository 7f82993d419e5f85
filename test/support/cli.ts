import path from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';

/** Runs `twofold …` in-process against DATA_DIR `dataDir` (files are read relative to it). */
export async function cli(dataDir: string, argv: string[], { stdin = '', env = {} }: { stdin?: string; env?: Record<string, string> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCli(argv, {
    env: { DATA_DIR: dataDir, ...env },
    cwd: dataDir,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    readStdin: async () => stdin,
  });
  return { status, out, err };
}

/** Opens the embedded store the command line wrote, for assertions. */
export async function inStore<T>(dataDir: string, read: (store: Store) => Promise<T>): Promise<T> {
  const store = openSqliteStore(path.join(dataDir, 'twofold.db'));
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}
