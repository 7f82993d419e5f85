import crypto from 'node:crypto';
import argon2 from 'argon2';

/**
 * Recovery codes (docs/rules.md, "Challenge and recovery"; OWASP ASVS 5.0 §6.5.2, NIST SP 800-63B
 * §5.1.2.2): ten codes of 50 random bits each (10 characters, shown as xxxxx-xxxxx), stored only as
 * argon2id hashes keyed with a server-side pepper. A low cost is enough: the codes are random and
 * attempts are rate-limited.
 */
export const RECOVERY_CODE_COUNT = 10;
const CODE_LENGTH = 10;
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1, hashLength: 32 } as const;

/** Crockford's base32 in lower case: no i, l, o or u, so no character of a code can be read as another. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** What people type for the digits those letters look like. */
const LOOK_ALIKES: Readonly<Record<string, string>> = { o: '0', i: '1', l: '1' };
/**
 * Codes issued before used RFC 4648 base32 (a–z, 2–7) and were hashed in upper case; they keep working
 * until they are used or replaced.
 */
const EARLIER_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export const RECOVERY_CODE_EXAMPLE = '4f8kq-zc2mb';

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const code = Array.from({ length: CODE_LENGTH }, () => ALPHABET[crypto.randomInt(ALPHABET.length)]).join('');
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

export type RecoveryCodeInput = { readonly ok: true; readonly forms: readonly string[] } | { readonly ok: false; readonly problem: string };

/**
 * What was typed, as the forms a stored code could have been hashed from: insensitive to case,
 * spaces and dashes, forgiving 0/o and 1/i/l. Otherwise a sentence saying what is wrong with it.
 */
export function readRecoveryCode(input: string): RecoveryCodeInput {
  const typed = input.replace(/[\s-]+/g, '').toLowerCase();
  if (typed.length === 0) return { ok: false, problem: `Enter one of your recovery codes, like ${RECOVERY_CODE_EXAMPLE}.` };
  if ([...typed].length !== CODE_LENGTH) {
    return { ok: false, problem: `A recovery code has ${CODE_LENGTH} letters and digits, like ${RECOVERY_CODE_EXAMPLE}; this one has ${[...typed].length}.` };
  }
  const current = [...typed].map((char) => LOOK_ALIKES[char] ?? char).join('');
  const forms = [
    ...([...current].every((char) => ALPHABET.includes(char)) ? [current] : []),
    ...([...typed].every((char) => EARLIER_ALPHABET.includes(char)) ? [typed.toUpperCase()] : []),
  ];
  if (forms.length === 0) {
    const stray = [...typed].find((char) => !ALPHABET.includes(LOOK_ALIKES[char] ?? char) && !EARLIER_ALPHABET.includes(char))!;
    return { ok: false, problem: `A recovery code has only letters and digits, like ${RECOVERY_CODE_EXAMPLE}; “${stray}” is not one of them.` };
  }
  return { ok: true, forms };
}

/** The form a new code is hashed from. */
export function hashedForm(code: string): string {
  const read = readRecoveryCode(code);
  if (!read.ok) throw new Error('not a recovery code');
  return read.forms[0]!;
}

export function hashRecoveryCode(form: string, pepper: Buffer): Promise<string> {
  return argon2.hash(form, { ...HASH_OPTIONS, secret: pepper });
}

export async function recoveryCodeMatches(hash: string, form: string, pepper: Buffer): Promise<boolean> {
  try {
    return await argon2.verify(hash, form, { secret: pepper });
  } catch {
    return false;
  }
}

export const RECOVERY_PEPPER_PURPOSE = 'recovery-codes';
