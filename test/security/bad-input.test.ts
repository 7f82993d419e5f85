import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, csrfTokenOf, formAction, type Page } from '../support/browser.js';
import { REDIRECT_URI, discover, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { completeSetup } from '../support/second-factor.js';
import { startTestInstance, type TestInstance } from '../support/twofold.js';

const PASSWORD = 'a long enough password';

/** What people and attackers type into fields: each must get a 4xx and a sentence, never a 500. */
const CORPUS: readonly string[] = [
  '',
  ' ',
  'abc',
  '12345',
  '1234567',
  '12345a',
  '１２３４５６',
  '12\u00003456',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '${7*7}{{7*7}}',
  '%00%0d%0a',
  '😀😀😀😀😀😀',
  '-'.repeat(40),
  'a'.repeat(5000),
];

describe('bad input to every form field', () => {
  let twofold: TestInstance;
  let rp: oidc.Configuration;

  before(async () => {
    twofold = await startTestInstance();
    await twofold.app.directory.createOrganization('city', 'City');
    await twofold.app.directory.setForceTwoFactor('city', true);
    await twofold.app.directory.createClient({ clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
    rp = await discover(twofold.url, 'app');
  });
  after(() => twofold.close());

  const post = (browser: Browser, page: Page, action: string, fields: Record<string, string>) => browser.submit(page, formAction(page.html, action), fields);
  const expectRefused = (page: Page, label: string) => {
    assert.ok(page.status >= 400 && page.status < 500, `${label}: status ${page.status}`);
    assert.match(page.html, /role="alert"/, `${label}: a sentence is announced`);
    assert.doesNotMatch(page.html, /at [\w.]+ \(|node_modules|Error:/, `${label}: no stack trace`);
  };

  it('sign-in: email and password', async () => {
    await twofold.app.directory.createUser({ email: 'login@city.test', password: PASSWORD });
    for (const value of CORPUS) {
      for (const fields of [{ email: value, password: PASSWORD }, { email: 'login@city.test', password: value }]) {
        const browser = new Browser(twofold.url);
        const page = await browser.visit((await startSignIn(rp)).url.href);
        expectRefused(await post(browser, page, '/login', fields), `login ${JSON.stringify(fields).slice(0, 60)}`);
      }
    }
  });

  it('setup: token — and nothing is enabled', async () => {
    await twofold.app.directory.createUser({ email: 'setup@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    const browser = new Browser(twofold.url);
    const setup = await signInWithPassword(browser, await startSignIn(rp), 'setup@city.test', PASSWORD);
    for (const token of [...CORPUS, '000000', '123456']) {
      const page = await post(browser, setup, '/setup', { token });
      expectRefused(page, `token ${JSON.stringify(token).slice(0, 30)}`);
      assert.match(page.html, /Enter the 6-digit code from your authenticator app\.|That code is not valid or has expired\./);
    }
    const user = await twofold.app.store.users.findByEmail('setup@city.test');
    assert.equal(await twofold.app.store.secondFactors.find(user!.id), null);
  });

  it('challenge and recovery: passcode and recovery code — and nobody gets in', async () => {
    await twofold.app.directory.createUser({ email: 'challenge@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    const first = new Browser(twofold.url);
    await completeSetup(first, await signInWithPassword(first, await startSignIn(rp), 'challenge@city.test', PASSWORD));
    const user = await twofold.app.store.users.findByEmail('challenge@city.test');
    const before = await twofold.app.store.secondFactors.find(user!.id);

    const browser = new Browser(twofold.url);
    const challenge = await signInWithPassword(browser, await startSignIn(rp), 'challenge@city.test', PASSWORD);
    const recovery = await browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(challenge.html)![1]!, challenge.url).href);
    for (const value of CORPUS.filter((input) => !/^\d{6}$/.test(input))) {
      expectRefused(await post(browser, challenge, '/challenge', { passcode: value }), `passcode ${JSON.stringify(value).slice(0, 30)}`);
      expectRefused(await post(browser, recovery, '/recovery', { code: value }), `recovery ${JSON.stringify(value).slice(0, 30)}`);
    }
    const after = await twofold.app.store.secondFactors.find(user!.id);
    assert.deepEqual(after, before, 'no code was spent and no time step accepted');
  });

  it('refuses a missing or forged CSRF token, a non-form body and an oversized form on every form', async () => {
    await twofold.app.directory.createUser({ email: 'csrf@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    const browser = new Browser(twofold.url);
    const setup = await signInWithPassword(browser, await startSignIn(rp), 'csrf@city.test', PASSWORD);
    const login = await browser.visit((await startSignIn(rp, { prompt: 'login' })).url.href);
    const forms: Array<[Page, string]> = [[login, '/login'], [login, '/abort'], [setup, '/setup']];
    for (const [page, action] of forms) {
      const url = new URL(formAction(page.html, action), page.url).href;
      for (const token of ['', 'x'.repeat(43), csrfTokenOf(page.html).slice(1)]) {
        const refused = await browser.visit(url, { method: 'POST', body: new URLSearchParams({ _csrf: token, token: '123456' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        assert.equal(refused.status, 403, `${action} with token ${JSON.stringify(token.slice(0, 5))}`);
      }
      const json = await browser.request(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(json.status, 415, `${action} JSON`);
      const huge = await browser.request(url, { method: 'POST', body: `_csrf=${csrfTokenOf(page.html)}&x=${'a'.repeat(70_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(huge.status, 413, `${action} oversized`);
    }
    const stillSetup = await browser.visit(setup.url);
    assert.match(stillSetup.html, /Set up two-factor authentication/, 'nothing moved the sign-in forward');
  });

  it('answers unknown interaction paths and methods without a 500', async () => {
    const browser = new Browser(twofold.url);
    const page = await browser.visit((await startSignIn(rp)).url.href);
    for (const suffix of ['/setup', '/challenge', '/recovery', '/continue', '/recovery-codes.txt', '/login/challenge', '/login/recovery', '/nope']) {
      const response = await browser.request(`${page.url}${suffix}`);
      assert.ok(response.status >= 400 && response.status < 500, `GET ${suffix}: ${response.status}`);
    }
    const wrongStep = await post(browser, page, '/login', { email: 'nobody@x.test', password: 'x' });
    assert.equal(wrongStep.status, 401);
    const challengeAtLogin = await browser.visit(`${page.url}/challenge`, { method: 'POST', body: new URLSearchParams({ _csrf: csrfTokenOf(page.html), passcode: '123456' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(challengeAtLogin.status, 400);
    assert.match(challengeAtLogin.html, /This step of the sign-in is already done|has expired/);
  });
});
