import type { Context } from 'koa';
import { clearSignedJson, readSignedJson, writeSignedJson } from '../src/http/signed-cookie.js';

/**
 * "The password was right for this account in this sign-in": kept between the password and the
 * passcode when both happen inside the login step. A signed cookie scoped to the interaction, valid
 * ten minutes — it names the account, and nothing is granted until the passcode is right too.
 */
interface PasswordVerified {
  readonly uid: string;
  readonly accountId: string;
  readonly exp: number;
}

const COOKIE = 'twofold.password-verified';
const TEN_MINUTES = 10 * 60 * 1000;
const path = (uid: string) => `/interaction/${uid}`;

export function rememberPasswordVerified(ctx: Context, uid: string, accountId: string): void {
  const value: PasswordVerified = { uid, accountId, exp: Date.now() + TEN_MINUTES };
  writeSignedJson(ctx, COOKIE, value, { path: path(uid), maxAgeMs: TEN_MINUTES });
}

export function readPasswordVerified(ctx: Context, uid: string): PasswordVerified | null {
  const value = readSignedJson<PasswordVerified>(ctx, COOKIE);
  return value?.uid === uid && typeof value.accountId === 'string' && value.exp > Date.now() ? value : null;
}

export function forgetPasswordVerified(ctx: Context, uid: string): void {
  clearSignedJson(ctx, COOKIE, path(uid));
}
