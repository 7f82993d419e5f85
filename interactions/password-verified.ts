import type { Context } from 'koa';

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
const options = (ctx: Context, uid: string) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path: `/interaction/${uid}`, overwrite: true });

export function rememberPasswordVerified(ctx: Context, uid: string, accountId: string): void {
  const value: PasswordVerified = { uid, accountId, exp: Date.now() + TEN_MINUTES };
  ctx.cookies.set(COOKIE, Buffer.from(JSON.stringify(value)).toString('base64url'), { ...options(ctx, uid), maxAge: TEN_MINUTES });
}

export function readPasswordVerified(ctx: Context, uid: string): PasswordVerified | null {
  const raw = ctx.cookies.get(COOKIE, { signed: true });
  if (!raw) return null;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PasswordVerified;
    return value.uid === uid && typeof value.accountId === 'string' && value.exp > Date.now() ? value : null;
  } catch {
    return null;
  }
}

export function forgetPasswordVerified(ctx: Context, uid: string): void {
  ctx.cookies.set(COOKIE, null, options(ctx, uid));
}
