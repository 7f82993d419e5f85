import type { Context } from 'koa';

/**
 * A small JSON value kept in the browser between two requests of one step (a sign-in in progress,
 * a built-in app's session): signed with the cookie keys, so a changed value is not read back;
 * HttpOnly and SameSite=Lax; scoped to the path that reads it.
 */
const options = (ctx: Context, path: string) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path, overwrite: true });

export function writeSignedJson(ctx: Context, name: string, value: unknown, place: { path: string; maxAgeMs?: number }): void {
  ctx.cookies.set(name, Buffer.from(JSON.stringify(value)).toString('base64url'), {
    ...options(ctx, place.path),
    ...(place.maxAgeMs === undefined ? {} : { maxAge: place.maxAgeMs }),
  });
}

/** The value, or null when the cookie is missing, unsigned or not JSON. The caller checks its shape. */
export function readSignedJson<T>(ctx: Context, name: string): T | null {
  const raw = ctx.cookies.get(name, { signed: true });
  if (!raw) return null;
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}

export function clearSignedJson(ctx: Context, name: string, path: string): void {
  ctx.cookies.set(name, null, options(ctx, path));
}
