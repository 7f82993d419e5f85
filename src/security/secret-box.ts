import crypto from 'node:crypto';

/**
 * Authenticated encryption of secrets at rest (AES-256-GCM). A sealed value names the key that
 * sealed it, so keys can be rotated: new values use the current key, old ones still open with a
 * previous key. The context string is bound as associated data, so a ciphertext copied into another
 * row (another user's TOTP secret, another client's secret) does not open there.
 */
export interface SecretBox {
  readonly currentKeyId: string;
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
  /**
   * A key for another purpose (e.g. the pepper of recovery-code hashes), derived with HKDF from the
   * current key or, for data made before a rotation, from the key with `keyId`.
   */
  deriveKey(purpose: string, keyId?: string): Buffer;
}

const VERSION = 'v1';

export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

export function keyIdOf(key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 12);
}

export function createSecretBox(currentKeyBase64: string, previousKeysBase64: readonly string[] = []): SecretBox {
  const keys = new Map<string, Buffer>();
  const current = Buffer.from(currentKeyBase64, 'base64');
  if (current.length !== 32) throw new SecretBoxError('The encryption key must be 32 bytes.');
  const currentKeyId = keyIdOf(current);
  keys.set(currentKeyId, current);
  for (const previous of previousKeysBase64) {
    const key = Buffer.from(previous, 'base64');
    keys.set(keyIdOf(key), key);
  }

  return {
    currentKeyId,
    seal(plaintext, context) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, currentKeyId, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
    },
    deriveKey(purpose, keyId = currentKeyId) {
      const key = keys.get(keyId);
      if (!key) throw new SecretBoxError(`Key ${keyId} is neither ENCRYPTION_KEY nor in ENCRYPTION_KEYS_PREVIOUS.`);
      return Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), `twofold:${purpose}`, 32));
    },
    open(sealed, context) {
      const [version, keyId, iv, ciphertext, tag] = sealed.split('.');
      if (version !== VERSION || !keyId || iv === undefined || ciphertext === undefined || tag === undefined) {
        throw new SecretBoxError('Sealed value is malformed.');
      }
      const key = keys.get(keyId);
      if (!key) {
        throw new SecretBoxError(`Sealed with key ${keyId}, which is neither ENCRYPTION_KEY nor in ENCRYPTION_KEYS_PREVIOUS.`);
      }
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('Sealed value failed authentication (wrong key or context, or tampered).');
      }
    },
  };
}
