import type { Context } from 'koa';

/**
 * The remembered-browser cookie (docs/rules.md, "Remembered browsers"): a random token that the
 * store knows only by its SHA-256. HttpOnly and SameSite=Lax, Secure over HTTPS, sent to every path
 * (the sign-in pages and the account page read it), and kept as long as the record counts.
 */
export const REMEMBERED_BROWSER_COOKIE = 'twofold.remembered-browser';

export function readRememberedBrowser(ctx: Pick<Context, 'cookies'>): string | undefined {
  return ctx.cookies.get(REMEMBERED_BROWSER_COOKIE, { signed: false }) || undefined;
}

export function writeRememberedBrowser(ctx: Context, token: string, expires: Date): void {
  ctx.cookies.set(REMEMBERED_BROWSER_COOKIE, token, { signed: false, httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', expires, overwrite: true });
}

/** A short description of the browser for the account page's list, from its User-Agent header. */
export function describeBrowser(userAgent: string): string {
  const browser = [/Edg\//, /Firefox\//, /Chrome\//, /Safari\//].map((pattern) => pattern.exec(userAgent)?.[0]).find(Boolean);
  const system = [/Windows/, /Android/, /iPhone|iPad/, /Mac OS X/, /Linux/].map((pattern) => pattern.exec(userAgent)?.[0]).find(Boolean);
  const names: Record<string, string> = { 'Edg/': 'Edge', 'Firefox/': 'Firefox', 'Chrome/': 'Chrome', 'Safari/': 'Safari', 'Mac OS X': 'macOS' };
  if (!browser && !system) return 'A browser';
  return [browser ? names[browser] ?? browser : 'A browser', system ? `on ${names[system] ?? system}` : ''].filter(Boolean).join(' ');
}
