import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from '@jest/globals';
import type { Page } from 'playwright-core';

// Evaluated through the DevTools protocol rather than added as a <script>, which our own
// Content-Security-Policy would (rightly) block.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WIDE = { width: 1280, height: 900 };
const NARROW = { width: 320, height: 800 };

interface Violation {
  id: string;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

async function violations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE_SOURCE};true`);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: Violation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join('; ')})`);
  });
  return found;
}

const scriptless = new WeakSet<Page>();

/** Says that `page` runs without JavaScript, where axe-core (which needs timers) cannot run. */
export function withoutJavaScript(page: Page): Page {
  scriptless.add(page);
  return page;
}

/**
 * The page as it is now, in a context where axe-core can run: same address and stylesheets, the
 * document served from what the scriptless page shows, its scripts left out so it stays as seen.
 */
async function scriptedCopy(page: Page): Promise<Page> {
  const html = (await page.content()).replace(/<script\b[\s\S]*?<\/script>/g, '');
  const context = await page.context().browser()!.newContext();
  const copy = await context.newPage();
  await copy.route(page.url(), (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }), { times: 1 });
  await copy.goto(page.url());
  return copy;
}

/** Pages checked so far in this test file, for the summary a suite may print. */
export const checkedPages: string[] = [];

/**
 * WCAG 2.1 A/AA with axe-core, at desktop width and at 320 px (where nothing may scroll sideways,
 * WCAG 1.4.10). Every page of every browser journey goes through here; `name` says which page failed.
 */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('load');
  if (scriptless.has(page)) {
    const copy = await scriptedCopy(page);
    try {
      return await expectAccessible(copy, name);
    } finally {
      await copy.context().close();
    }
  }
  const wide = await violations(page);
  await page.setViewportSize(NARROW);
  const narrow = await violations(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.setViewportSize(WIDE);
  expect({ page: name, url: page.url(), wide, narrow, overflowAt320: Math.max(0, overflow) }).toStrictEqual({ page: name, url: page.url(), wide: [], narrow: [], overflowAt320: 0 });
  checkedPages.push(name);
}
