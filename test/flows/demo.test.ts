import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO } from '../../src/demo/seed.js';
import { Browser, formAction } from '../support/browser.js';
import { confirmSignOut } from '../support/fixture.js';
import { startTestInstance, tempDir, type TestInstance } from '../support/twofold.js';

describe('the quickstart demo', () => {
  let twofold: TestInstance;
  const dataDir = tempDir();
  before(async () => {
    twofold = await startTestInstance({ TWOFOLD_DEMO: '1', DATA_DIR: dataDir });
  });
  after(() => twofold.close());

  it('seeds an empty store and prints how to try it', async () => {
    const { store } = twofold.app;
    assert.equal(await store.users.count(), 2);
    const demo = await store.organizations.findBySlug(DEMO.organization.slug);
    assert.ok(demo);
    const owner = await store.users.findByEmail(DEMO.owner.email);
    assert.equal((await store.memberships.find(demo.id, owner!.id))?.role, 'owner');
    assert.ok(await store.clients.find(DEMO.clientId));
    assert.ok(twofold.logLines.some((line) => line.includes(`${twofold.url}/demo`) && line.includes(DEMO.owner.email)));
  });

  it('lets a newcomer click "Sign in", sign in and see the ID token claims, then sign out', async () => {
    const browser = new Browser(twofold.url);
    const home = await browser.visit('/demo');
    assert.match(home.html, /href="\/demo\/login">Sign in</);
    const login = await browser.visit('/demo/login');
    assert.match(login.url, /\/interaction\//);
    const signedIn = await browser.submit(login, formAction(login.html, '/login'), { email: DEMO.member.email, password: DEMO.member.password });
    assert.equal(signedIn.status, 200);
    assert.ok(signedIn.url.endsWith('/demo'), signedIn.url);
    assert.match(signedIn.html, new RegExp(`You are signed in as <strong>${DEMO.member.email}</strong>`));
    assert.match(signedIn.html, /&quot;amr&quot;: \[\s*&quot;pwd&quot;\s*\]/);

    const confirm = await browser.visit('/demo/logout');
    assert.match(confirm.html, /Sign out of Twofold\?/);
    const signedOut = await confirmSignOut(browser, confirm);
    assert.ok(signedOut.url.endsWith('/demo'), signedOut.url);
    assert.match(signedOut.html, /Sign in/);
  });

  it('does not seed again on a restart', async () => {
    const port = new URL(twofold.url).port;
    await twofold.close();
    twofold = await startTestInstance({ TWOFOLD_DEMO: '1', DATA_DIR: dataDir, PORT: port });
    assert.equal(await twofold.app.store.users.count(), 2);
    assert.ok(!twofold.logLines.some((line) => line.includes('seeded')));
  });

  it('serves no demo when TWOFOLD_DEMO=0', async () => {
    const plain = await startTestInstance({ TWOFOLD_DEMO: '0' });
    try {
      assert.equal((await fetch(`${plain.url}/demo`)).status, 404);
      assert.equal(await plain.app.store.users.count(), 0);
    } finally {
      await plain.close();
    }
  });
});
