import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setSiteTwoFactorMode } from '../../src/directory/site-settings.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { REDIRECT_URI, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, recoveryCodesOf, setupKeyOf } from '../support/second-factor.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import type { TestSmtpServer } from '../support/smtp.js';
import type { TestInstance } from '../support/twofold.js';

describe('the account page (/account)', () => {
  let fixture: Fixture;
  let twofold: TestInstance;
  let smtp: TestSmtpServer;
  let rp: oidc.Configuration;
  const newUser: Fixture['newUser'] = (orgs) => fixture.newUser(orgs);
  /** Opens /account and signs in through Twofold's own sign-in (the page is a relying party of it). */
  const openAccount = async (email: string, browser = new Browser(twofold.url)) => {
    const login = await browser.visit('/account');
    assert.match(login.html, /<label for="email">Email<\/label>/, 'the account page asks Twofold to sign in');
    const page = await browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
    assert.ok(page.url.endsWith('/account'), page.url);
    return { browser, page };
  };

  before(async () => {
    fixture = await startFixture();
    ({ twofold, smtp, rp } = fixture);
  });
  after(() => fixture.close());

  it('activates 2FA in optional mode (seed 003) and regenerates the codes, each confirmed again; a replayed passcode is refused', async () => {
    const email = await newUser();
    const { browser, page } = await openAccount(email);
    assert.match(page.html, /Status: <span class="status-off">Off<\/span>/);
    assert.match(page.html, />Activate 2FA<\/button>/);
    assert.doesNotMatch(page.html, /Deactivate 2FA/);

    const wrong = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': 'not it' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.html, /That password is not right\./);

    const setup = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    assert.match(setup.html, /<h1>Set up two-factor authentication<\/h1>/);
    const secret = setupKeyOf(setup.html);
    const codesPage = await browser.submit(setup, formAction(setup.html, '/2fa/setup'), { token: await codeAt(secret) });
    const firstCodes = recoveryCodesOf(codesPage.html);
    assert.equal(firstCodes.length, 10);
    const enabled = await browser.submit(codesPage, formAction(codesPage.html, '/recovery-codes/done?after=enabled'), {});
    assert.match(enabled.html, /Two-factor authentication is enabled\./);
    assert.match(enabled.html, /Sign out every other session/);
    assert.match(enabled.html, /Recovery codes remaining: <strong>10<\/strong>/);
    await smtp.waitFor(email, /Two-factor authentication is now on/);

    const regenerateCode = await codeAt(secret, 1);
    const regenerated = await browser.submit(enabled, formAction(enabled.html, '/recovery-codes'), { 'regenerate-password': PASSWORD, 'regenerate-passcode': regenerateCode });
    const newCodes = recoveryCodesOf(regenerated.html);
    assert.equal(newCodes.length, 10);
    assert.ok(!newCodes.some((code) => firstCodes.includes(code)), 'a whole new set');
    const back = await browser.submit(regenerated, formAction(regenerated.html, '/recovery-codes/done?after=regenerated'), {});
    assert.match(back.html, /Your new recovery codes are ready/);
    await smtp.waitFor(email, /Your recovery codes were replaced/);
    const siteLog = (await twofold.app.store.audit.list(null, { limit: 500, offset: 0 })).events;
    assert.ok(siteLog.some((event) => event.action === 'recovery_codes.regenerated' && event.targetEmail === email), 'a user in no organization is audited in the site log');

    const replayed = await browser.submit(back, formAction(back.html, '/2fa/deactivate'), { 'deactivate-password': PASSWORD, 'deactivate-passcode': regenerateCode });
    assert.equal(replayed.status, 400);
    assert.match(replayed.html, /That code was already used\./);

  });

  it('deactivates 2FA with the password and a fresh passcode, and e-mails the user', async () => {
    const email = await newUser();
    const { browser, page } = await openAccount(email);
    const setup = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    const secret = setupKeyOf(setup.html);
    const codesPage = await browser.submit(setup, formAction(setup.html, '/2fa/setup'), { token: await codeAt(secret) });
    const enabled = await browser.submit(codesPage, formAction(codesPage.html, '/recovery-codes/done?after=enabled'), {});

    const tooFarAhead = await browser.submit(enabled, formAction(enabled.html, '/2fa/deactivate'), { 'deactivate-password': PASSWORD, 'deactivate-passcode': await codeAt(secret, 5) });
    assert.equal(tooFarAhead.status, 400, 'only one step of clock drift is accepted');
    const noPassword = await browser.submit(enabled, formAction(enabled.html, '/2fa/deactivate'), { 'deactivate-password': 'wrong', 'deactivate-passcode': await codeAt(secret, 1) });
    assert.equal(noPassword.status, 401);
    assert.match(noPassword.html, /That password is not right\./);

    const deactivated = await browser.submit(enabled, formAction(enabled.html, '/2fa/deactivate'), { 'deactivate-password': PASSWORD, 'deactivate-passcode': await codeAt(secret, 1) });
    assert.match(deactivated.html, /Two-factor authentication is turned off\./);
    assert.match(deactivated.html, /Status: <span class="status-off">Off<\/span>/);
    assert.match(deactivated.html, /Sign out every other session/);
    const mail = await smtp.waitFor(email, /Two-factor authentication was turned off/);
    assert.ok(!mail.text.includes(secret));
    const disabledEvent = (await twofold.app.store.audit.list(null, { limit: 500, offset: 0 })).events.find((event) => event.action === 'two_factor.disabled' && event.targetEmail === email);
    assert.equal(disabledEvent?.actorEmail, email, 'disabled by the user themselves');
    const user = await twofold.app.store.users.findByEmail(email);
    assert.equal(await twofold.app.store.secondFactors.find(user!.id), null, 'secret and codes are deleted');

    const again = await browser.submit(deactivated, formAction(deactivated.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    assert.notEqual(setupKeyOf(again.html), secret, 're-activation always makes a new secret (seed 003)');
    const oldCode = await browser.submit(again, formAction(again.html, '/2fa/setup'), { token: await codeAt(secret, 1) });
    assert.equal(oldCode.status, 400, "the old device's passcode does not activate the new secret");
  });

  it('does not offer to deactivate 2FA that an organization requires, and refuses it if asked', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const browser = new Browser(twofold.url);
    const login = await browser.visit('/account');
    const setup = await browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
    const { landed } = await completeSetup(browser, setup);
    assert.ok(landed.url.endsWith('/account'));
    assert.match(landed.html, /Status: <span class="status-on">On<\/span>/);
    assert.doesNotMatch(landed.html, /Deactivate 2FA/);
    assert.match(landed.html, /requires two-factor authentication, so it cannot be turned off/);
    const forced = await browser.visit(new URL('/account/2fa/deactivate', twofold.url).href, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(landed.html)![1]!, 'deactivate-password': PASSWORD, 'deactivate-passcode': '123456' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(forced.status, 409);
    const user = await twofold.app.store.users.findByEmail(email);
    assert.ok(await twofold.app.store.secondFactors.find(user!.id), 'still enrolled');
  });

  it('offers no activation when the site mode is off', async () => {
    await setSiteTwoFactorMode(twofold.app.store.settings, 'off');
    try {
      const { page } = await openAccount(await newUser());
      assert.doesNotMatch(page.html, /Activate 2FA/);
      assert.match(page.html, /cannot be activated on this site/);
    } finally {
      await setSiteTwoFactorMode(twofold.app.store.settings, 'optional');
    }
  });

  it('signs out every other session on request, keeping this one', async () => {
    const email = await newUser();
    const elsewhere = new Browser(twofold.url);
    const landed = await signInWithPassword(elsewhere, await startSignIn(rp), email, PASSWORD);
    assert.ok(landed.url.startsWith(REDIRECT_URI));

    const { browser, page } = await openAccount(email);
    const setup = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    const codesPage = await browser.submit(setup, formAction(setup.html, '/2fa/setup'), { token: await codeAt(setupKeyOf(setup.html)) });
    const enabled: Page = await browser.submit(codesPage, formAction(codesPage.html, '/recovery-codes/done?after=enabled'), {});
    const done = await browser.submit(enabled, formAction(enabled.html, '/sessions/end-others'), {});
    assert.match(done.html, /Every other session is signed out\./);

    const silent = await elsewhere.visit((await startSignIn(rp, { prompt: 'none' })).url.href);
    assert.equal(new URL(silent.url).searchParams.get('error'), 'login_required', 'the other browser is signed out');
    const mine = await browser.visit('/account');
    assert.match(mine.html, /Status: <span class="status-on">On<\/span>/, 'this session still works');
  });

  it('sends a visitor without a session to sign in, and refuses a form post without one', async () => {
    const browser = new Browser(twofold.url);
    const response = await browser.request('/account');
    assert.equal(response.status, 302);
    assert.match(response.headers.get('location')!, /\/auth\?client_id=twofold-account/);
    const post = await browser.request('/account/2fa/deactivate', { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(post.status, 401);
    const callback = await browser.visit('/account/callback?code=forged&state=forged');
    assert.equal(callback.status, 400);
    assert.match(callback.html, /did not complete/);
  });
});
