import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../support/twofold.js';
import { storeContract } from './contract.js';

storeContract('SQLite', async () => openSqliteStore(path.join(tempDir(), 'twofold.db')));
