import { afterAll, beforeAll } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { TestSmtpServer, emailedSetupCode } from './smtp.js';
import { startTestInstance, type TestInstance } from './twofold.js';

export interface BrowserSuite {
  readonly twofold: TestInstance;
  readonly smtp: TestSmtpServer;
  /** A page in a browser context of its own (its own cookies), closed after the suite. */
  newPage(options?: Parameters<Browser['newContext']>[0]): Promise<Page>;
}

/**
 * What every browser suite starts with: a mail server, a Twofold that sends to it (with `env`), and
 * Chromium; `prepare` sets up the suite's data. All of it is closed after the suite.
 */
export function useBrowserSuite(env: () => Promise<Record<string, string>> | Record<string, string>, prepare: (twofold: TestInstance) => Promise<void> = async () => {}): BrowserSuite {
  let twofold: TestInstance | undefined;
  let smtp: TestSmtpServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    smtp = new TestSmtpServer();
    const smtpUrl = await smtp.start();
    twofold = await startTestInstance({ ...(await env()), SMTP_URL: smtpUrl });
    await prepare(twofold);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await twofold?.close();
    await smtp?.close();
  });

  return {
    get twofold() {
      return twofold!;
    },
    get smtp() {
      return smtp!;
    },
    async newPage(options = {}) {
      const context = await browser!.newContext(options);
      contexts.push(context);
      return context.newPage();
    },
  };
}

/**
 * On a first set-up's page, types the code e-mailed to the person (docs/rules.md, "The first set-up
 * belongs to the person"), read from the mail server as they would read it; nothing when not asked.
 */
export async function typeEmailedCode(page: Page): Promise<void> {
  const asked = page.locator('#emailCode-sent strong');
  if ((await asked.count()) === 0) return;
  await page.getByLabel('Email code').fill(await emailedSetupCode(await asked.innerText()));
}
