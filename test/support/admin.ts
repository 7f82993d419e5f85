import { expect } from '@jest/globals';
import { Browser, formAction, type Page } from './browser.js';
import { codeAt, completeSetup, submitPasscode } from './second-factor.js';

/**
 * Signs in to /admin through Twofold's sign-in page; returns the browser, now holding an admin session.
 * Whoever needs a second factor there gets it: set up on the spot (its secret is returned), or passed
 * with the given secret's code `step` time steps ahead (a later step than any used before); a member
 * still in a grace period puts the setup off.
 */
export async function adminBrowser(
  origin: string,
  email: string,
  password: string,
  second: { secret?: string; step?: number } = {},
): Promise<{ browser: Browser; page: Page; secret?: string }> {
  const browser = new Browser(origin);
  const login = await browser.visit('/admin');
  expect(login.html).toMatch(/<label for="email">Email<\/label>/);
  const page = await browser.submit(login, formAction(login.html, '/login'), { email, password });
  if (page.html.includes('Set up two-factor authentication') && page.html.includes('/setup"')) {
    const { secret, landed } = await completeSetup(browser, page);
    return { browser, page: landed, secret };
  }
  if (page.html.includes('Remind me later')) {
    // In a grace period: put the setup off, as a member may until the deadline.
    return { browser, page: await browser.submit(page, formAction(page.html, '/grace'), { choice: 'later' }) };
  }
  if (page.html.includes('One-time passcode')) {
    if (!second.secret) throw new Error(`${email} needs a passcode for /admin: pass their secret`);
    return { browser, page: await submitPasscode(browser, page, await codeAt(second.secret, second.step ?? 1)), secret: second.secret };
  }
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

/** An admin API token, made on the admin pages (API access token) by a browser signed in there. */
export async function apiTokenFrom(browser: Browser): Promise<string> {
  const page = await postForm(browser, '/admin/api-token');
  const token = /<code class="secret">([^<]+)<\/code>/.exec(page.html)?.[1];
  if (!token) throw new Error(`no token on the page (${page.status}): ${page.html.slice(0, 400)}`);
  return token;
}

/** An admin API token for this owner or site admin, as a script's user makes one: signed in to /admin. */
export async function adminApiToken(origin: string, email: string, password: string, second: { secret?: string; step?: number } = {}): Promise<string> {
  return apiTokenFrom((await adminBrowser(origin, email, password, second)).browser);
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
