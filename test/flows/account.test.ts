import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';

import { Browser, formAction, type Page } from '../support/browser.js';
import { REDIRECT_URI, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, emailCodeFor, recoveryCodesOf, setupKeyOf } from '../support/second-factor.js';
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
    // The account page asks Twofold to sign in.
    expect(login.html).toMatch(/<label for="email">Email<\/label>/);
    const page = await browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
    expect(page.url).toMatch(/\/account$/);
    return { browser, page };
  };

  beforeAll(async () => {
    fixture = await startFixture();
    ({ twofold, smtp, rp } = fixture);
  });
  afterAll(() => fixture.close());

  it('activates 2FA in optional mode (seed 003) and regenerates the codes, each confirmed again; a replayed passcode is refused', async () => {
    const email = await newUser();
    const { browser, page } = await openAccount(email);
    expect(page.html).toMatch(/Status: <span class="status-off">Off<\/span>/);
    expect(page.html).toMatch(/>Activate 2FA<\/button>/);
    expect(page.html).not.toMatch(/Deactivate 2FA/);

    const wrong = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': 'not it' });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toMatch(/That password is not right\./);

    const setup = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    expect(setup.html).toMatch(/<h1>Set up two-factor authentication<\/h1>/);
    const secret = setupKeyOf(setup.html);
    const codesPage = await browser.submit(setup, formAction(setup.html, '/2fa/setup'), { token: await codeAt(secret), ...(await emailCodeFor(setup)) });
    const firstCodes = recoveryCodesOf(codesPage.html);
    expect(firstCodes).toHaveLength(10);
    const enabled = await browser.submit(codesPage, formAction(codesPage.html, '/recovery-codes/done?after=enabled'), {});
    expect(enabled.html).toMatch(/Two-factor authentication is enabled\./);
    expect(enabled.html).toMatch(/Sign out every other session/);
    expect(enabled.html).toMatch(/Recovery codes remaining: <strong>10<\/strong>/);
    await smtp.waitFor(email, /Two-factor authentication is now on/);

    const regenerateCode = await codeAt(secret, 1);
    const regenerated = await browser.submit(enabled, formAction(enabled.html, '/recovery-codes'), { 'regenerate-password': PASSWORD, 'regenerate-passcode': regenerateCode });
    const newCodes = recoveryCodesOf(regenerated.html);
    expect(newCodes).toHaveLength(10);
    // A whole new set.
    expect(newCodes.filter((code) => firstCodes.includes(code))).toStrictEqual([]);
    const back = await browser.submit(regenerated, formAction(regenerated.html, '/recovery-codes/done?after=regenerated'), {});
    expect(back.html).toMatch(/Your new recovery codes are ready/);
    await smtp.waitFor(email, /Your recovery codes were replaced/);
    const siteLog = (await twofold.store.audit.list(null, { limit: 500, offset: 0 })).events;
    // A user in no organization is audited in the site log.
    expect(siteLog).toContainEqual(expect.objectContaining({ action: 'recovery_codes.regenerated', targetEmail: email }));

    const replayed = await browser.submit(back, formAction(back.html, '/2fa/deactivate'), { 'deactivate-password': PASSWORD, 'deactivate-passcode': regenerateCode });
    expect(replayed.status).toBe(400);
    expect(replayed.html).toMatch(/That code was already used\./);

  });

  it('deactivates 2FA with the password and a fresh passcode, and e-mails the user', async () => {
    const email = await newUser();
    const { browser, page } = await openAccount(email);
    const setup = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    const secret = setupKeyOf(setup.html);
    const codesPage = await browser.submit(setup, formAction(setup.html, '/2fa/setup'), { token: await codeAt(secret), ...(await emailCodeFor(setup)) });
    const enabled = await browser.submit(codesPage, formAction(codesPage.html, '/recovery-codes/done?after=enabled'), {});

    const tooFarAhead = await browser.submit(enabled, formAction(enabled.html, '/2fa/deactivate'), { 'deactivate-password': PASSWORD, 'deactivate-passcode': await codeAt(secret, 5) });
    // Only one step of clock drift is accepted.
    expect(tooFarAhead.status).toBe(400);
    const noPassword = await browser.submit(enabled, formAction(enabled.html, '/2fa/deactivate'), { 'deactivate-password': 'wrong', 'deactivate-passcode': await codeAt(secret, 1) });
    expect(noPassword.status).toBe(401);
    expect(noPassword.html).toMatch(/That password is not right\./);

    const deactivated = await browser.submit(enabled, formAction(enabled.html, '/2fa/deactivate'), { 'deactivate-password': PASSWORD, 'deactivate-passcode': await codeAt(secret, 1) });
    expect(deactivated.html).toMatch(/Two-factor authentication is turned off\./);
    expect(deactivated.html).toMatch(/Status: <span class="status-off">Off<\/span>/);
    expect(deactivated.html).toMatch(/Sign out every other session/);
    const mail = await smtp.waitFor(email, /Two-factor authentication was turned off/);
    expect(mail.text).not.toContain(secret);
    const disabledEvent = (await twofold.store.audit.list(null, { limit: 500, offset: 0 })).events.find((event) => event.action === 'two_factor.disabled' && event.targetEmail === email);
    // Disabled by the user themselves.
    expect(disabledEvent?.actorEmail).toBe(email);
    const user = await twofold.store.users.findByEmail(email);
    // Secret and codes are deleted.
    expect(await twofold.store.secondFactors.find(user!.id)).toBeNull();

    const again = await browser.submit(deactivated, formAction(deactivated.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    // Re-activation always makes a new secret (seed 003)
    expect(setupKeyOf(again.html)).not.toBe(secret);
    const oldCode = await browser.submit(again, formAction(again.html, '/2fa/setup'), { token: await codeAt(secret, 1) });
    // The old device's passcode does not activate the new secret.
    expect(oldCode.status).toBe(400);
  });

  it('does not offer to deactivate 2FA that an organization requires, and refuses it if asked', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const browser = new Browser(twofold.url);
    const login = await browser.visit('/account');
    const setup = await browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
    const { landed } = await completeSetup(browser, setup);
    expect(landed.url).toMatch(/\/account$/);
    expect(landed.html).toMatch(/Status: <span class="status-on">On<\/span>/);
    expect(landed.html).not.toMatch(/Deactivate 2FA/);
    expect(landed.html).toMatch(/requires two-factor authentication, so it cannot be turned off/);
    const forced = await browser.visit(new URL('/account/2fa/deactivate', twofold.url).href, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(landed.html)![1]!, 'deactivate-password': PASSWORD, 'deactivate-passcode': '123456' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(forced.status).toBe(409);
    const user = await twofold.store.users.findByEmail(email);
    // Still enrolled.
    expect(await twofold.store.secondFactors.find(user!.id)).toBeTruthy();
  });

  it('offers no activation when the site mode is off', async () => {
    await twofold.app.site.setTwoFactorMode(OPERATOR, 'off', null);
    try {
      const { page } = await openAccount(await newUser());
      expect(page.html).not.toMatch(/Activate 2FA/);
      expect(page.html).toMatch(/cannot be activated on this site/);
    } finally {
      await twofold.app.site.setTwoFactorMode(OPERATOR, 'optional', null);
    }
  });

  it('signs out every other session on request, keeping this one', async () => {
    const email = await newUser();
    const elsewhere = new Browser(twofold.url);
    const landed = await signInWithPassword(elsewhere, await startSignIn(rp), email, PASSWORD);
    expect(landed.url).toStartWith(REDIRECT_URI);

    const { browser, page } = await openAccount(email);
    const setup = await browser.submit(page, formAction(page.html, '/2fa/activate'), { 'activate-password': PASSWORD });
    const codesPage = await browser.submit(setup, formAction(setup.html, '/2fa/setup'), { token: await codeAt(setupKeyOf(setup.html)), ...(await emailCodeFor(setup)) });
    const enabled: Page = await browser.submit(codesPage, formAction(codesPage.html, '/recovery-codes/done?after=enabled'), {});
    const done = await browser.submit(enabled, formAction(enabled.html, '/sessions/end-others'), {});
    expect(done.html).toMatch(/Every other session is signed out\./);

    const silent = await elsewhere.visit((await startSignIn(rp, { prompt: 'none' })).url.href);
    // The other browser is signed out.
    expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');
    const mine = await browser.visit('/account');
    // This session still works.
    expect(mine.html).toMatch(/Status: <span class="status-on">On<\/span>/);
  });

  it('sends a visitor without a session to sign in, and refuses a form post without one', async () => {
    const browser = new Browser(twofold.url);
    const response = await browser.request('/account');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')!).toMatch(/\/auth\?client_id=twofold-account/);
    const post = await browser.request('/account/2fa/deactivate', { method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(post.status).toBe(401);
    const callback = await browser.visit('/account/callback?code=forged&state=forged');
    expect(callback.status).toBe(400);
    expect(callback.html).toMatch(/did not complete/);
  });
});
