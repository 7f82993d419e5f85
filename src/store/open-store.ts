import path from 'node:path';
import type { Config } from '../../config/index.js';
import type { Store } from './types.js';
import { openSqliteStore } from './sqlite/index.js';

/** MongoDB when MONGODB_URI is set; otherwise the embedded SQLite database in DATA_DIR. */
export async function openStore(config: Config): Promise<Store> {
  if (config.mongodbUri) {
    const { openMongoStore } = await import('./mongo/index.js');
    return openMongoStore(config.mongodbUri);
  }
  return openSqliteStore(path.join(config.dataDir, 'twofold.db'));
}
