import crypto from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';

/*
 * Password hashes imported from other systems, in PHC string format, verified as they are so that
 * nobody has to reset a password when moving to Twofold; the next successful sign-in re-hashes with
 * Twofold's argon2id. Supported: $scrypt$ln=…,r=…,p=…$salt$hash, $pbkdf2-sha256$[i=]rounds$salt$hash
 * (PHC base64 or passlib's "adapted" base64), and bcrypt $2a$/$2b$/$2y$.
 */

const scrypt = promisify(crypto.scrypt) as (password: string, salt: Buffer, length: number, options: crypto.ScryptOptions) => Promise<Buffer>;
const pbkdf2 = promisify(crypto.pbkdf2);

/** PHC strings use unpadded base64; passlib's pbkdf2 uses "." for "+". */
const fromB64 = (text: string) => Buffer.from(text.replace(/\./g, '+'), 'base64');

function parameters(text: string): Map<string, number> {
  return new Map(text.split(',').map((pair) => {
    const [key, value] = pair.split('=');
    return [key!, Number(value)];
  }));
}

export type HashFormat = 'argon2id' | 'scrypt' | 'pbkdf2-sha256' | 'bcrypt';

export function hashFormat(hash: string): HashFormat | null {
  if (/^\$argon2id\$v=19\$[^$]+\$[^$]+\$[^$]+$/.test(hash)) return 'argon2id';
  if (/^\$scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/.]+\$[A-Za-z0-9+/.]+$/.test(hash)) return 'scrypt';
  if (/^\$pbkdf2-sha256\$(i=)?\d+\$[A-Za-z0-9+/.]+\$[A-Za-z0-9+/.]+$/.test(hash)) return 'pbkdf2-sha256';
  if (/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  return null;
}

/** Bounds that keep an imported hash from costing more than a sign-in may (a hash is input too). */
const LIMITS = { scryptMaxLn: 20, pbkdf2MaxRounds: 5_000_000, bcryptMaxCost: 15, argon2MaxMemoryKib: 262_144, argon2MaxIterations: 10 };

export function hashIsWithinLimits(hash: string): boolean {
  switch (hashFormat(hash)) {
    case 'scrypt':
      return (parameters(hash.split('$')[2]!).get('ln') ?? 99) <= LIMITS.scryptMaxLn;
    case 'pbkdf2-sha256':
      return Number(hash.split('$')[2]!.replace('i=', '')) <= LIMITS.pbkdf2MaxRounds;
    case 'bcrypt':
      return Number(hash.slice(4, 6)) <= LIMITS.bcryptMaxCost;
    case 'argon2id': {
      const params = parameters(hash.split('$')[3]!);
      return (params.get('m') ?? Infinity) <= LIMITS.argon2MaxMemoryKib && (params.get('t') ?? Infinity) <= LIMITS.argon2MaxIterations;
    }
    default:
      return false;
  }
}

export async function verifyLegacyHash(hash: string, password: string): Promise<boolean> {
  const parts = hash.split('$');
  switch (hashFormat(hash)) {
    case 'scrypt': {
      const params = parameters(parts[2]!);
      const expected = fromB64(parts[4]!);
      const N = 2 ** params.get('ln')!;
      const r = params.get('r')!;
      const derived = await scrypt(password, fromB64(parts[3]!), expected.length, { N, r, p: params.get('p')!, maxmem: 256 * N * r + 1024 * 1024 });
      return crypto.timingSafeEqual(derived, expected);
    }
    case 'pbkdf2-sha256': {
      const expected = fromB64(parts[4]!);
      const derived = await pbkdf2(password, fromB64(parts[3]!), Number(parts[2]!.replace('i=', '')), expected.length, 'sha256');
      return crypto.timingSafeEqual(derived, expected);
    }
    case 'bcrypt':
      return bcrypt.compare(password, hash);
    default:
      return false;
  }
}
