import crypto from 'node:crypto';
import type { SecretBox } from '../security/secret-box.js';
import type { KeyRepository } from '../store/types.js';

export interface ProviderKeys {
  /** Private signing keys (JWKS) for ID tokens and JWT access tokens. */
  readonly jwks: { keys: crypto.JsonWebKey[] };
  /** Keys that sign cookies; the first signs, all verify. */
  readonly cookieKeys: string[];
}

const JWKS = 'jwks';
const COOKIE_KEYS = 'cookie-keys';

function signingKey(alg: 'ES256' | 'RS256'): crypto.JsonWebKey {
  const { privateKey } = alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomBytes(12).toString('base64url'), alg, use: 'sig' };
}

/**
 * Signing and cookie keys are generated on the very first start, sealed at rest, and read back on
 * every later start (and by every other process sharing the store), so tokens and sessions survive a
 * restart. RS256 comes first because it is the algorithm every relying party supports by default.
 */
export async function loadProviderKeys(keys: KeyRepository, box: SecretBox): Promise<ProviderKeys> {
  const sealedJwks = await keys.getOrCreate(JWKS, () => box.seal(JSON.stringify({ keys: [signingKey('RS256'), signingKey('ES256')] }), JWKS));
  const sealedCookieKeys = await keys.getOrCreate(COOKIE_KEYS, () =>
    box.seal(JSON.stringify([crypto.randomBytes(32).toString('base64url'), crypto.randomBytes(32).toString('base64url')]), COOKIE_KEYS),
  );
  return {
    jwks: JSON.parse(box.open(sealedJwks, JWKS)) as { keys: crypto.JsonWebKey[] },
    cookieKeys: JSON.parse(box.open(sealedCookieKeys, COOKIE_KEYS)) as string[],
  };
}
