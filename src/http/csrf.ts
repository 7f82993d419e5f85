import crypto from 'node:crypto';
import type { Context } from 'koa';
import { UserError } from '../errors.js';

const COOKIE = 'twofold.csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function readCookie(ctx: Context): string | undefined {
  const token = ctx.cookies.get(COOKIE, { signed: true });
  return token && TOKEN.test(token) ? token : undefined;
}

/**
 * Synchronizer token for every form Twofold serves: a random value in a signed, HttpOnly,
 * SameSite=Lax cookie, repeated in a hidden `_csrf` field. A cross-site page can neither read nor
 * forge it. Pages get it through `render`; `readForm` checks it, so any form that is read is checked.
 */
export function csrfToken(ctx: Context): string {
  let token = (ctx.state.csrfToken as string | undefined) ?? readCookie(ctx);
  if (!token) {
    token = crypto.randomBytes(32).toString('base64url');
    ctx.cookies.set(COOKIE, token, { signed: true, httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true });
  }
  ctx.state.csrfToken = token;
  return token;
}

export class CsrfError extends UserError {
  constructor() {
    super('This form has expired or was sent from another site. Go back, reload the page and try again.', 403);
  }
}

export function verifyCsrf(ctx: Context, submitted: string | null): void {
  const expected = Buffer.from(readCookie(ctx) ?? '');
  const actual = Buffer.from(submitted ?? '');
  if (expected.length === 0 || expected.length !== actual.length || !crypto.timingSafeEqual(expected, actual)) {
    throw new CsrfError();
  }
}
