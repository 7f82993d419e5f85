import { expect } from '@jest/globals';
import { totpAt } from '../../src/factors/totp/totp.js';
import { Browser, formAction, type Page } from './browser.js';
import { emailedSetupCode } from './smtp.js';

/** The setup key as the page shows it (groups of four), without spaces. */
export function setupKeyOf(html: string): string {
  const match = /<code class="secret"[^>]*>([\s\S]*?)<\/code>/.exec(html);
  // The setup page shows the key as text.
  expect(match).toBeTruthy();
  return match![1]!.replace(/<[^>]+>|\s/g, '');
}

export function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((match) => match[1]!);
}

/**
 * A first set-up's page asks for the code e-mailed to the person (docs/rules.md, "The first set-up
 * belongs to the person"): read from the mail server as they would read it; nothing when not asked.
 */
export async function emailCodeFor(page: Page, except: readonly string[] = []): Promise<{ emailCode?: string }> {
  const to = /We sent a 6-digit code to <strong>([^<]+)<\/strong>/.exec(page.html)?.[1];
  return to ? { emailCode: await emailedSetupCode(to, { except }) } : {};
}

/** The code an authenticator shows `steps` time steps from now (a later step avoids replaying the setup code). */
export const codeAt = (secret: string, steps = 0) => totpAt(secret, Date.now() + steps * 30_000);

export async function submitPasscode(browser: Browser, page: Page, passcode: string): Promise<Page> {
  return browser.submit(page, formAction(page.html, '/challenge'), { passcode });
}

/**
 * From the setup page: enter a valid token (and the e-mailed code, read from the mail server unless
 * given), read the recovery codes, continue. A test that needs
 * more than one passcode afterwards sets up with the previous step's code (`step` -1), leaving the
 * current and the next step's codes to use.
 */
export async function completeSetup(browser: Browser, setup: Page, step = 0, emailCode?: string): Promise<{ secret: string; codes: string[]; landed: Page }> {
  const secret = setupKeyOf(setup.html);
  const confirmation = emailCode ? { emailCode } : await emailCodeFor(setup);
  let codesPage = await browser.submit(setup, formAction(setup.html, '/setup'), { token: await codeAt(secret, step), ...confirmation });
  // The newest code to have arrived can be another set-up page's (the person opened two): try the others.
  const tried = confirmation.emailCode ? [confirmation.emailCode] : [];
  while (!emailCode && tried.length > 0 && tried.length < 4 && /That e-mailed code is not right/.test(codesPage.html)) {
    const next = await emailCodeFor(setup, tried);
    tried.push(next.emailCode!);
    codesPage = await browser.submit(setup, formAction(setup.html, '/setup'), { token: await codeAt(secret, step), ...next });
  }
  expect(codesPage.status).toBe(200);
  const codes = recoveryCodesOf(codesPage.html);
  expect(codes).toHaveLength(10);
  const landed = await browser.submit(codesPage, formAction(codesPage.html, '/continue'), {});
  return { secret, codes, landed };
}
