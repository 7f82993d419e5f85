import crypto from 'node:crypto';
import argon2 from 'argon2';

/**
 * Recovery codes (docs/rules.md, "Challenge and recovery"; OWASP ASVS 5.0 §6.5.2, NIST SP 800-63B
 * §5.1.2.2): ten codes of 50 random bits each (10 base32 characters, shown as xxxxx-xxxxx), stored
 * only as argon2id hashes keyed with a server-side pepper. A low cost is enough: the codes are random
 * and attempts are rate-limited.
 */
export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CODE_LENGTH = 10;
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1, hashLength: 32 } as const;

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const code = Array.from({ length: CODE_LENGTH }, () => ALPHABET[crypto.randomInt(ALPHABET.length)]).join('').toLowerCase();
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/** Insensitive to case, spaces and dashes; null when it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input.replace(/[\s-]+/g, '').toUpperCase();
  return code.length === CODE_LENGTH && [...code].every((char) => ALPHABET.includes(char)) ? code : null;
}

export function hashRecoveryCode(normalized: string, pepper: Buffer): Promise<string> {
  return argon2.hash(normalized, { ...HASH_OPTIONS, secret: pepper });
}

export async function recoveryCodeMatches(hash: string, normalized: string, pepper: Buffer): Promise<boolean> {
  try {
    return await argon2.verify(hash, normalized, { secret: pepper });
  } catch {
    return false;
  }
}

export const RECOVERY_PEPPER_PURPOSE = 'recovery-codes';
