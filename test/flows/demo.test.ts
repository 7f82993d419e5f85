import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEMO } from '../../src/demo/seed.js';
import { Browser, formAction } from '../support/browser.js';
import { confirmSignOut } from '../support/fixture.js';
import { startTestInstance, tempDir, type TestInstance } from '../support/twofold.js';

describe('the quickstart demo', () => {
  let twofold: TestInstance;
  const dataDir = tempDir();
  beforeAll(async () => {
    twofold = await startTestInstance({ TWOFOLD_DEMO: '1', DATA_DIR: dataDir });
  });
  afterAll(() => twofold.close());

  it('seeds an empty store and prints how to try it', async () => {
    const { store } = twofold;
    expect(await store.users.count()).toBe(2);
    const demo = await store.organizations.findBySlug(DEMO.organization.slug);
    expect(demo).toBeTruthy();
    const owner = await store.users.findByEmail(DEMO.owner.email);
    expect((await store.memberships.find(demo!.id, owner!.id))?.role).toBe('owner');
    expect(await store.clients.find(DEMO.clientId)).toBeTruthy();
    expect(twofold.logLines.some((line) => line.includes(`${twofold.url}/demo`) && line.includes(DEMO.owner.email))).toBe(true);
  });

  it('lets a newcomer click "Sign in", sign in and see the ID token claims, then sign out', async () => {
    const browser = new Browser(twofold.url);
    const home = await browser.visit('/demo');
    expect(home.html).toMatch(/href="\/demo\/login">Sign in</);
    const login = await browser.visit('/demo/login');
    expect(login.url).toMatch(/\/interaction\//);
    const signedIn = await browser.submit(login, formAction(login.html, '/login'), { email: DEMO.member.email, password: DEMO.member.password });
    expect(signedIn.status).toBe(200);
    expect(signedIn.url).toMatch(/\/demo$/);
    expect(signedIn.html).toMatch(new RegExp(`You are signed in as <strong>${DEMO.member.email}</strong>`));
    expect(signedIn.html).toMatch(/&quot;amr&quot;: \[\s*&quot;pwd&quot;\s*\]/);

    const confirm = await browser.visit('/demo/logout');
    expect(confirm.html).toMatch(/Sign out of Twofold\?/);
    const signedOut = await confirmSignOut(browser, confirm);
    expect(signedOut.url).toMatch(/\/demo$/);
    expect(signedOut.html).toMatch(/Sign in/);
  });

  it('does not seed again on a restart', async () => {
    const port = new URL(twofold.url).port;
    await twofold.close();
    twofold = await startTestInstance({ TWOFOLD_DEMO: '1', DATA_DIR: dataDir, PORT: port });
    expect(await twofold.store.users.count()).toBe(2);
    expect(twofold.logLines).not.toContainEqual(expect.stringContaining('seeded'));
  });

  it('serves no demo when TWOFOLD_DEMO=0', async () => {
    const plain = await startTestInstance({ TWOFOLD_DEMO: '0' });
    try {
      expect((await fetch(`${plain.url}/demo`)).status).toBe(404);
      expect(await plain.store.users.count()).toBe(0);
    } finally {
      await plain.close();
    }
  });
});
