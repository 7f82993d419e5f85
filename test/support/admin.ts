import { expect } from '@jest/globals';
import { Browser, formAction, type Page } from './browser.js';
import { REDIRECT_URI, exchangeCode, oidc, signInWithPassword, startSignIn } from './relying-party.js';

/** Signs in to /admin through Twofold's sign-in page; returns the browser, now holding an admin session. */
export async function adminBrowser(origin: string, email: string, password: string): Promise<{ browser: Browser; page: Page }> {
  const browser = new Browser(origin);
  const login = await browser.visit('/admin');
  expect(login.html).toMatch(/<label for="email">Email<\/label>/);
  const page = await browser.submit(login, formAction(login.html, '/login'), { email, password });
  return { browser, page };
}

/** The browser's CSRF token: what any page of ours would put in its forms. */
export function csrfOf(browser: Browser): string {
  return [...browser.cookies.values()].find((cookie) => cookie.name === 'twofold.csrf')?.value ?? '';
}

/** Posts a form as the browser would from one of our pages (with its CSRF token). */
export function postForm(browser: Browser, path: string, fields: Record<string, string> = {}): Promise<Page> {
  return browser.visit(path, {
    method: 'POST',
    body: new URLSearchParams({ _csrf: csrfOf(browser), ...fields }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}

/** An access token with the admin scope, as an automation client gets one (code + PKCE). */
export async function adminApiToken(origin: string, rp: oidc.Configuration, email: string, password: string, scope = 'openid twofold:admin'): Promise<string> {
  const pending = await startSignIn(rp, { scope });
  const landed = await signInWithPassword(new Browser(origin), pending, email, password);
  expect(landed.url).toStartWith(REDIRECT_URI);
  return (await exchangeCode(rp, landed.url, pending)).access_token;
}

export async function callApi(origin: string, token: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(new URL(path, origin), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
