import path from 'node:path';
import type { Config } from '../../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite/index.js';

/**
 * How often the embedded database's worker thread checkpoints: often enough that the write-ahead log
 * stays a few megabytes under any load one server carries.
 */
export const CHECKPOINT_EVERY_MS = 1000;

/** MongoDB when MONGODB_URI is set; otherwise the embedded SQLite database in DATA_DIR. */
export async function openStore(config: Config, log: Pick<Logger, 'warn'>): Promise<Store> {
  if (config.mongodbUri) {
    const { openMongoStore } = await import('./mongo/index.js');
    return openMongoStore(config.mongodbUri);
  }
  return openSqliteStore(path.join(config.dataDir, 'twofold.db'), {
    checkpointEveryMs: CHECKPOINT_EVERY_MS,
    checkpointNiceness: config.backgroundNiceness,
    warn: (message) => log.warn(message),
  });
}
