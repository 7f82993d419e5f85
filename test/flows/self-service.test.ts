import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, recoveryCodesOf, setupKeyOf, submitPasscode } from '../support/second-factor.js';
import type { TestSmtpServer } from '../support/smtp.js';
import type { TestInstance } from '../support/twofold.js';

/** Staff help themselves (docs/rules.md, "Staff help themselves"), through the real app over HTTP. */
describe('staff help themselves: password, a new phone, few codes left', () => {
  let fixture: Fixture;
  let twofold: TestInstance;
  let smtp: TestSmtpServer;
  let rp: oidc.Configuration;

  beforeAll(async () => {
    fixture = await startFixture();
    ({ twofold, smtp, rp } = fixture);
  });
  afterAll(() => fixture.close());

  const signIn = async (email: string, password = PASSWORD, browser = new Browser(twofold.url)) => {
    const pending = await startSignIn(rp);
    return { browser, pending, page: await signInWithPassword(browser, pending, email, password) };
  };
  /** A member of "city" (which forces 2FA) who has set it up, with this and the next step's passcodes left to use. */
  const enrolledMember = async () => {
    const email = await fixture.newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { secret, codes } = await completeSetup(first.browser, first.page, -1);
    return { email, secret, codes, browser: first.browser };
  };
  const openAccount = async (email: string, secret: string, step: number, browser = new Browser(twofold.url)) => {
    const login = await browser.visit('/account');
    const challenge = await browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
    const page = await submitPasscode(browser, challenge, await codeAt(secret, step));
    expect(page.url).toMatch(/\/account$/);
    return { browser, page };
  };
  const auditActionsOf = async (email: string) => {
    const city = await twofold.store.organizations.findBySlug('city');
    return (await twofold.store.audit.list(city!.id, { limit: 500, offset: 0 })).events.filter((event) => event.targetEmail === email).map((event) => event.action);
  };
  const mailsTo = (email: string, subject: RegExp) => smtp.messages.filter((message) => message.to === email && subject.test(message.subject));
  const linkIn = (text: string) => /(https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]+)/.exec(text)![1]!;

  describe('Forgot your password?', () => {
    const askForLink = async (browser: Browser, email: string): Promise<Page> => {
      const login = await browser.visit((await startSignIn(rp)).url.href);
      const href = /<a href="([^"]+)">Forgot your password\?<\/a>/.exec(login.html)![1]!.replace(/&amp;/g, '&');
      const forgot = await browser.visit(new URL(href, login.url).href);
      expect(forgot.html).toMatch(/<label for="email">Email<\/label>/);
      expect(forgot.html).toMatch(/>Send reset link<\/button>/);
      // The way back is the sign-in that was open.
      expect(forgot.html).toContain(`href="${new URL(login.url).pathname}">Back to sign in`);
      return browser.submit(forgot, formAction(forgot.html, '/password/forgot'), { email });
    };

    it('e-mails a single-use link; setting the password signs out everywhere and the next sign-in still asks for the passcode', async () => {
      const { email, secret, browser: earlier } = await enrolledMember();
      const sent = await askForLink(new Browser(twofold.url), email);
      expect(sent.status).toBe(200);
      expect(sent.html).toMatch(/Check your e-mail/);
      const link = linkIn((await smtp.waitFor(email, /^Set a new password$/)).text);

      const browser = new Browser(twofold.url);
      const form = await browser.visit(link);
      expect(form.status).toBe(200);
      expect(form.html).toMatch(/<label for="password">New password<\/label>/);
      expect(form.html).toMatch(/>Set password<\/button>/);
      const action = formAction(form.html, new URL(link).pathname);
      const tooShort = await browser.submit(form, action, { password: 'short', confirm: 'short' });
      expect(tooShort.status).toBe(400);
      expect(tooShort.html).toMatch(/aria-invalid="true"/);
      const mismatch = await browser.submit(form, action, { password: 'a brand new password', confirm: 'a brand new passw0rd' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.html).toMatch(/The two passwords are not the same\./);
      const done = await browser.submit(form, action, { password: 'a brand new password', confirm: 'a brand new password' });
      expect(done.status).toBe(200);
      expect(done.html).toMatch(/Your new password is set/);
      expect(done.html).toMatch(/<a class="button primary" href="\/account">/);
      await smtp.waitFor(email, /Your password was changed/);
      expect(await auditActionsOf(email)).toContain('account.password_reset');

      // The link worked once.
      const reused = await new Browser(twofold.url).visit(link);
      expect(reused.status).toBe(410);
      expect(reused.html).toMatch(/expired or was already used\. Ask for a new one/);
      expect(reused.html).toMatch(/<a href="\/password\/forgot">Ask for a new link<\/a>/);

      // The session the account had before is gone.
      const silent = await earlier.visit((await startSignIn(rp, { prompt: 'none' })).url.href);
      expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');

      const oldPassword = await signIn(email);
      expect(oldPassword.page.status).toBe(401);
      // The new password, and then the second factor all the same.
      const next = await signIn(email, 'a brand new password');
      expect(next.page.html).toMatch(/<label for="passcode">One-time passcode<\/label>/);
      expect(next.page.url).not.toMatch(/^https:\/\/rp\.example\.test/);
      const landed = await submitPasscode(next.browser, next.page, await codeAt(secret, 1));
      expect(landed.url).toStartWith(REDIRECT_URI);
      expect((await exchangeCode(rp, landed.url, next.pending)).claims()!.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    });

    it('answers an unknown address exactly as a known one, sends it nothing, and stops sending after three requests', async () => {
      const known = await fixture.newUser();
      const unknown = `nobody-${Date.now()}@city.test`;
      const forKnown = await askForLink(new Browser(twofold.url), known);
      const forUnknown = await askForLink(new Browser(twofold.url), unknown);
      expect(forUnknown.status).toBe(forKnown.status);
      const withoutAddress = (page: Page) => page.html.replace(/<strong>[^<]*<\/strong>/, '').replace(/name="_csrf" value="[^"]*"|<meta name="csrf-token"[^>]*>|nonce="[^"]*"/g, '');
      expect(withoutAddress(forUnknown)).toBe(withoutAddress(forKnown));

      for (let request = 2; request <= 4; request += 1) await askForLink(new Browser(twofold.url), known);
      await smtp.waitFor(known, /^Set a new password$/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(mailsTo(known, /^Set a new password$/)).toHaveLength(3);
      expect(mailsTo(unknown, /./)).toHaveLength(0);
      // Nothing in the log says which address had an account, nor any link.
      expect(twofold.logLines.join('\n')).not.toMatch(/\/password\/reset\/[A-Za-z0-9_-]{20,}/);
    });

    it('says which field is missing, and refuses a link that was never sent', async () => {
      const browser = new Browser(twofold.url);
      const forgot = await browser.visit('/password/forgot');
      expect(forgot.html).toMatch(/href="\/account">Back to your account page/);
      const empty = await browser.submit(forgot, formAction(forgot.html, '/password/forgot'), { email: ' ' });
      expect(empty.status).toBe(400);
      expect(empty.html).toMatch(/Enter the email address you sign in with\./);
      const forged = await browser.visit('/password/reset/not-a-token-we-sent');
      expect(forged.status).toBe(410);
      expect(forged.html).toMatch(/href="\/password\/forgot"/);
      const posted = await browser.submit(forgot, '/password/reset/not-a-token-we-sent', { password: 'a brand new password', confirm: 'a brand new password' });
      expect(posted.status).toBe(410);
    });
  });

  it('changes the password on /account with the current one and a passcode, and e-mails the user', async () => {
    const { email, secret } = await enrolledMember();
    const { browser, page } = await openAccount(email, secret, 0);
    expect(page.html).toMatch(/<h3>Change password<\/h3>/);
    const change = (fields: Record<string, string>) => browser.submit(page, formAction(page.html, '/account/password'), fields);

    const wrongCurrent = await change({ 'password-password': 'not it', 'password-passcode': await codeAt(secret, 1), 'password-new': 'a changed password', 'password-confirm': 'a changed password' });
    expect(wrongCurrent.status).toBe(401);
    expect(wrongCurrent.html).toMatch(/That password is not right\./);
    // The passcode, not checked yet, is kept for the next try; the wrong field takes focus.
    expect(wrongCurrent.html).toMatch(/id="password-password"[^>]*autofocus/);
    expect(wrongCurrent.html).toContain(`value="${await codeAt(secret, 1)}"`);
    const noPasscode = await change({ 'password-password': PASSWORD, 'password-new': 'a changed password', 'password-confirm': 'a changed password' });
    expect(noPasscode.status).toBe(400);
    const mismatch = await change({ 'password-password': PASSWORD, 'password-passcode': await codeAt(secret, 1), 'password-new': 'a changed password', 'password-confirm': 'another' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toMatch(/The two new passwords are not the same\./);
    const changed = await change({ 'password-password': PASSWORD, 'password-passcode': await codeAt(secret, 1), 'password-new': 'a changed password', 'password-confirm': 'a changed password' });
    expect(changed.html).toMatch(/Your password is changed\./);
    expect(changed.html).toMatch(/Sign out every other session/);
    const mail = await smtp.waitFor(email, /Your password was changed/);
    expect(mail.text).not.toContain('a changed password');
    expect(await auditActionsOf(email)).toContain('account.password_changed');

    expect((await signIn(email)).page.status).toBe(401);
    expect((await signIn(email, 'a changed password')).page.html).toMatch(/One-time passcode/);
  });

  it('moves to a new phone: the old app works until the new one gives its first passcode, then stops; the recovery codes stay', async () => {
    const { email, secret, codes } = await enrolledMember();
    const { browser, page } = await openAccount(email, secret, 0);
    const wrong = await browser.submit(page, formAction(page.html, '/account/2fa/new-app'), { 'new-app-password': PASSWORD, 'new-app-passcode': '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toMatch(/id="new-app-passcode"[^>]*autofocus/);
    // The old phone is gone: a recovery code stands in for its passcode.
    const setup = await browser.submit(page, formAction(page.html, '/account/2fa/new-app'), { 'new-app-password': PASSWORD, 'new-app-recoveryCode': codes[0]! });
    expect(setup.html).toMatch(/<h1>Set up two-factor authentication<\/h1>/);
    const newSecret = setupKeyOf(setup.html);
    expect(newSecret).not.toBe(secret);

    // Not proven yet: the old app still signs in.
    const meanwhile = await signIn(email);
    const oldCode = await codeAt(secret, 1);
    expect((await submitPasscode(meanwhile.browser, meanwhile.page, oldCode)).url).toStartWith(REDIRECT_URI);

    const notProven = await browser.submit(setup, formAction(setup.html, '/account/2fa/new-app/setup'), { token: oldCode });
    expect(notProven.status).toBe(400);
    const replaced = await browser.submit(setup, formAction(setup.html, '/account/2fa/new-app/setup'), { token: await codeAt(newSecret, 0) });
    expect(replaced.html).toMatch(/Your new authenticator app is set up\./);
    expect(replaced.html).toMatch(/Recovery codes remaining: <strong>9<\/strong>/);
    await smtp.waitFor(email, /A new authenticator app is set up/);
    expect(await auditActionsOf(email)).toContain('two_factor.replaced');

    // The old app's code is now simply wrong (with the old secret in place it would be "already used").
    const oldApp = await signIn(email);
    const refused = await submitPasscode(oldApp.browser, oldApp.page, oldCode);
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/That code is not valid or has expired\./);
    const newApp = await signIn(email);
    expect((await submitPasscode(newApp.browser, newApp.page, await codeAt(newSecret, 1))).url).toStartWith(REDIRECT_URI);
  });

  it('offers the account page when 3 or fewer recovery codes are left, and opens it signed in', async () => {
    const { email, secret } = await enrolledMember();
    const secondFactor = (await twofold.store.secondFactors.find((await twofold.store.users.findByEmail(email))!.id))!;
    for (const code of secondFactor.recoveryCodes.slice(0, 7)) await twofold.store.secondFactors.useRecoveryCode(secondFactor.userId, code.id);

    const { browser, page } = await signIn(email);
    const offer = await submitPasscode(browser, page, await codeAt(secret, 0));
    expect(offer.html).toMatch(/<h1>Keep a way to sign in<\/h1>/);
    expect(offer.html).toMatch(/You have <strong>3 recovery codes<\/strong> left/);
    expect(offer.html).not.toMatch(/You signed in with a recovery code/);
    const account = await browser.submit(offer, formAction(offer.html, '/account'), {});
    // Both factors were just proven: the account page opens without a second sign-in.
    expect(account.url).toMatch(/\/account$/);
    expect(account.html).toMatch(/Recovery codes remaining: <strong>3<\/strong>/);
    expect(account.html).toMatch(/>Regenerate recovery codes<\/button>/);

    const regenerated = await browser.submit(account, formAction(account.html, '/account/recovery-codes'), { 'regenerate-password': PASSWORD, 'regenerate-passcode': await codeAt(secret, 1) });
    expect(recoveryCodesOf(regenerated.html)).toHaveLength(10);
    const back = await browser.submit(regenerated, formAction(regenerated.html, '/recovery-codes/done?after=regenerated'), {});
    expect(back.html).toMatch(/Recovery codes remaining: <strong>10<\/strong>/);
  });

  it('tells someone without phone or codes whom to ask, by organization', async () => {
    const { email } = await enrolledMember();
    await twofold.app.users.create(OPERATOR, { email: 'city-owner@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'owner' }] });
    const { page } = await signIn(email);
    expect(page.html).toMatch(/Lost your phone and your recovery codes\?/);
    expect(page.html).toMatch(/For City: [^<]*city-owner@city\.test/);
  });
});
