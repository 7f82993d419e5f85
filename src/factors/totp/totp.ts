import crypto from 'node:crypto';
import { generateSecret } from 'otplib';

/**
 * TOTP (RFC 6238) with the parameters every authenticator app honours: SHA-1, 6 digits, 30-second
 * steps. Secrets are 160 bits (RFC 4226 §4 recommends at least that).
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const SECRET_BYTES = 20;
const SIX_DIGITS = /^\d{6}$/;

export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/**
 * The otpauth:// URI a QR code carries (the Key Uri Format authenticator apps read): label
 * "issuer:email", and the parameters spelled out rather than left to each app's defaults.
 */
export function otpauthUri(issuer: string, email: string, secret: string): string {
  const query = new URLSearchParams({ secret, issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_PERIOD_SECONDS) });
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(email)}?${query.toString().replace(/\+/g, '%20')}`;
}

/** The key as people type it: groups of four. */
export function formatSecret(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

/** The code as typed, without spaces; null unless it is exactly six digits. */
export function parsePasscode(input: string): string | null {
  const code = input.replace(/\s+/g, '');
  return SIX_DIGITS.test(code) ? code : null;
}

/** What is wrong with a typed passcode, for the sentence under the field. */
export function passcodeProblem(input: string): string {
  const code = input.replace(/\s+/g, '');
  if (code === '') return `Enter the ${TOTP_DIGITS}-digit passcode your authenticator app shows now.`;
  if (!/^\d+$/.test(code)) return `A passcode has only digits: enter the ${TOTP_DIGITS} digits your authenticator app shows now.`;
  return `A passcode has ${TOTP_DIGITS} digits; this one has ${code.length}. Enter the code your authenticator app shows now.`;
}

export function currentTimeStep(now = Date.now()): number {
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of a base32 secret (RFC 4648, as authenticator apps take it: any case, no padding needed). */
function base32Bytes(secret: string): Buffer {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const character of secret.toUpperCase().replace(/=+$/, '')) {
    const digit = BASE32.indexOf(character);
    if (digit < 0) throw new Error('a TOTP secret is not base32');
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** The passcode of one time step (RFC 4226 §5.3: HMAC-SHA-1 of the counter, dynamically truncated). */
function codeAt(key: Buffer, timeStep: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(timeStep));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
}

/**
 * The time step a code belongs to, if it is valid now or one step either side (clock drift) and
 * newer than `afterTimeStep`; otherwise null. Accepting it for good — so it cannot be replayed — is
 * the store's conditional update, not this check. Every step of the window is computed and compared
 * in constant time, so the time taken says nothing of which step (if any) matched.
 */
export async function matchTotp(secret: string, passcode: string, afterTimeStep?: number, now = Date.now()): Promise<number | null> {
  // The shape of a passcode is no secret: only six digits are compared.
  if (!SIX_DIGITS.test(passcode)) return null;
  const typed = Buffer.from(passcode);
  const key = base32Bytes(secret);
  const current = currentTimeStep(now);
  let matched: number | null = null;
  for (const timeStep of [current - 1, current, current + 1]) {
    const equal = crypto.timingSafeEqual(Buffer.from(codeAt(key, timeStep)), typed);
    if (equal && (afterTimeStep === undefined || timeStep > afterTimeStep)) matched = timeStep;
  }
  return matched;
}

/** The code an authenticator app would show at `now` (for tests and the benchmark). */
export async function totpAt(secret: string, now = Date.now()): Promise<string> {
  return codeAt(base32Bytes(secret), currentTimeStep(now));
}
