import { generate, generateSecret, verify } from 'otplib';

/**
 * TOTP (RFC 6238) with the parameters every authenticator app honours: SHA-1, 6 digits, 30-second
 * steps. Secrets are 160 bits (RFC 4226 §4 recommends at least that).
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const SECRET_BYTES = 20;

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
  return /^\d{6}$/.test(code) ? code : null;
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

/**
 * The time step a code belongs to, if it is valid now or one step either side (clock drift) and
 * newer than `afterTimeStep`; otherwise null. Accepting it for good — so it cannot be replayed — is
 * the store's conditional update, not this check.
 */
export async function matchTotp(secret: string, passcode: string, afterTimeStep?: number, now = Date.now()): Promise<number | null> {
  const result = await verify({
    secret,
    token: passcode,
    epoch: Math.floor(now / 1000),
    epochTolerance: TOTP_PERIOD_SECONDS,
    ...(afterTimeStep === undefined ? {} : { afterTimeStep }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

/** The code an authenticator app would show at `now` (for tests and the benchmark). */
export function totpAt(secret: string, now = Date.now()): Promise<string> {
  return generate({ secret, epoch: Math.floor(now / 1000) });
}
