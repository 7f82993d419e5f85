import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, isEncryptionKey, type Config } from '../../config/index.js';

/**
 * The key that seals secrets at rest: ENCRYPTION_KEY, or — for the zero-setup default outside
 * production — a key generated once into DATA_DIR. Creation is exclusive (`wx`), so a server and a
 * CLI starting together cannot end up with two different keys.
 */
export function resolveEncryptionKey(config: Config): string {
  if (config.encryptionKey) return config.encryptionKey;
  if (config.production) throw new ConfigError('ENCRYPTION_KEY', 'must be set in production.');
  const file = path.join(config.dataDir, 'encryption.key');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = fs.readFileSync(file, 'utf8').trim();
  if (!isEncryptionKey(key)) {
    throw new ConfigError('ENCRYPTION_KEY', `${file} does not hold a base64 32-byte key; restore it or set ENCRYPTION_KEY.`);
  }
  return key;
}
