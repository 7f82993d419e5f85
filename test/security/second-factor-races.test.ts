import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { csrfOf } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { REDIRECT_URI, discover, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, submitPasscode } from '../support/second-factor.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import type { TestSmtpServer } from '../support/smtp.js';
import { startTestInstance, type TestInstance } from '../support/twofold.js';

describe('second factor under races and brute force', () => {
  let fixture: Fixture;
  let twofold: TestInstance;
  let smtp: TestSmtpServer;
  let rp: oidc.Configuration;

  /** A user enrolled in 2FA (organization enforcement), with their secret and recovery codes. */
  const enrolledUser = async () => {
    const email = await fixture.newUser([{ slug: 'city', role: 'member' }]);
    const browser = new Browser(twofold.url);
    const setup = await signInWithPassword(browser, await startSignIn(rp), email, PASSWORD);
    const { secret, codes } = await completeSetup(browser, setup);
    return { email, secret, codes };
  };
  /** A fresh sign-in that has passed the password and waits at the challenge. */
  const atChallenge = async (email: string): Promise<{ browser: Browser; page: Page }> => {
    const browser = new Browser(twofold.url);
    const page = await signInWithPassword(browser, await startSignIn(rp), email, PASSWORD);
    expect(page.html).toMatch(/One-time passcode/);
    return { browser, page };
  };
  const landedAtRp = (page: Page) => page.url.startsWith(REDIRECT_URI);

  beforeAll(async () => {
    fixture = await startFixture();
    ({ twofold, smtp, rp } = fixture);
  });
  afterAll(() => fixture.close());

  it('accepts one passcode once when two sign-ins send it at the same moment', async () => {
    const { email, secret } = await enrolledUser();
    const sessions = await Promise.all(Array.from({ length: 4 }, () => atChallenge(email)));
    const code = await codeAt(secret, 1);
    const results = await Promise.all(sessions.map(({ browser, page }) => submitPasscode(browser, page, code)));
    // Exactly one sign-in wins.
    expect(results.filter(landedAtRp)).toHaveLength(1);
    for (const loser of results.filter((page) => !landedAtRp(page))) expect(loser.html).toMatch(/That code was already used/);
  });

  it('spends one recovery code once when two sign-ins send it at the same moment', async () => {
    const { email, codes } = await enrolledUser();
    const sessions = await Promise.all(Array.from({ length: 4 }, () => atChallenge(email)));
    const results = await Promise.all(sessions.map(async ({ browser, page }) => {
      const recovery = await browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(page.html)![1]!, page.url).href);
      return browser.submit(recovery, formAction(recovery.html, '/recovery'), { code: codes[0]! });
    }));
    // The winner is offered to renew its codes before going on; every other one is refused.
    expect(results.filter((page) => /Keep a way to sign in/.test(page.html))).toHaveLength(1);
    expect(results.filter((page) => page.status === 400)).toHaveLength(3);
    const stored = await twofold.store.secondFactors.find((await twofold.store.users.findByEmail(email))!.id);
    expect(stored!.recoveryCodes.filter((code) => code.usedAt !== null)).toHaveLength(1);
  });

  it('stops a sign-in after 5 wrong passcodes, even before a right one, and e-mails the user', async () => {
    const { email, secret } = await enrolledUser();
    const { browser, page } = await atChallenge(email);
    let current = page;
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      current = await submitPasscode(browser, current, '000000');
      expect([attempt, current.status]).toStrictEqual([attempt, 400]);
    }
    current = await submitPasscode(browser, current, '000000');
    expect(current.status).toBe(429);
    // No form to keep guessing in: the way on is to start the sign-in again.
    expect(current.html).toMatch(/Too many wrong codes in this sign-in\. Start again to get new tries/);
    expect(current.html).toMatch(/<a class="button primary" href="\/auth\?client_id=app&amp;[^"]+">Start again<\/a>/);
    expect(current.html).not.toMatch(/name="passcode"/);
    // A right code posted anyway does not rescue an exhausted sign-in.
    const right = await browser.submit(current, `${new URL(current.url).pathname}`, { passcode: await codeAt(secret, 1), _csrf: csrfOf(browser) });
    expect(right.status).toBe(429);
    // Reloading the page shows the same, before any code is typed.
    expect((await browser.visit(current.url)).html).toMatch(/Too many wrong codes in this sign-in/);
    const mail = await smtp.waitFor(email, /Someone entered your password, but not your passcode/);
    expect(mail.text).toMatch(/wrong 5 times in a row/);

    const fresh = await atChallenge(email);
    // A new sign-in may try again.
    expect((await submitPasscode(fresh.browser, fresh.page, await codeAt(secret, 1))).url).toStartWith(REDIRECT_URI);
  });

  it('locks the account after 10 consecutive failures, counting parallel guesses exactly', async () => {
    const { email, secret } = await enrolledUser();
    const sessions = await Promise.all(Array.from({ length: 8 }, () => atChallenge(email)));
    const guesses = sessions.flatMap(({ browser, page }) => Array.from({ length: 4 }, (_, i) => submitPasscode(browser, page, String(100000 + i))));
    const results = await Promise.all(guesses);
    const checked = results.filter((page) => page.status === 400).length;
    const lastChecked = results.filter((page) => page.status === 429 && /Too many wrong codes were entered for this account/.test(page.html)).length;
    expect(results).toHaveLength(32);
    // At most 9 guesses are answered "not valid": the 10th locks the account.
    expect(checked).toBeLessThanOrEqual(9);
    expect(checked + results.filter((page) => page.status === 429).length).toBe(32);
    // The account is reported locked.
    expect(lastChecked).toBeGreaterThanOrEqual(1);
    expect(results.filter((page) => page.status >= 500)).toStrictEqual([]);

    // A new sign-in says the account is locked, and until when, as soon as the page opens: no form.
    const browser = new Browser(twofold.url);
    const page = await signInWithPassword(browser, await startSignIn(rp), email, PASSWORD);
    expect(page.status).toBe(429);
    expect(page.html).toMatch(/so it is locked until <time datetime="[^"]+">\d\d:\d\d UTC<\/time> \(about 1[45] minutes\)\. Try again then\./);
    expect(page.html).not.toMatch(/name="passcode"/);
    // The right code, posted anyway, is refused while locked.
    const refused = await browser.submit(page, `${new URL(page.url).pathname}/challenge`, { passcode: await codeAt(secret, 1), _csrf: csrfOf(browser) });
    expect(refused.status).toBe(429);
    const lockMails = () => smtp.messages.filter((message) => message.to === email && /paused for 15 minutes/.test(message.text));
    await smtp.waitFor(email, /Someone entered your password/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One lockout e-mail.
    expect(lockMails()).toHaveLength(1);
    const city = await twofold.store.organizations.findBySlug('city');
    const locks = (await twofold.store.audit.list(city!.id, { limit: 500, offset: 0 })).events.filter((event) => event.action === 'second_factor.locked' && event.targetEmail === email);
    // One lockout in the audit log.
    expect(locks).toHaveLength(1);
  });

  it('throttles password guessing per email, known or not, with the same answer', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'guessed@city.test', password: PASSWORD });
    for (const email of ['guessed@city.test', 'nobody-here@city.test']) {
      const results = await Promise.all(Array.from({ length: 14 }, async () => {
        const browser = new Browser(twofold.url);
        return signInWithPassword(browser, await startSignIn(rp), email, 'wrong password');
      }));
      const wrong = results.filter((page) => page.status === 401).length;
      expect([email, wrong]).toStrictEqual([email, expect.toBeWithinRange(0, 10)]);
      expect(results.filter((page) => page.status === 429)).toHaveLength(14 - wrong);
      const correct = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), email, PASSWORD);
      expect([email, correct.status]).toStrictEqual([email, 429]);
      expect(correct.html).toMatch(/Too many sign-in attempts\. Wait a few minutes and try again\./);
    }
  });
});

describe('password throttling per IP address', () => {
  it('pauses an address after too many wrong passwords across emails', async () => {
    const twofold = await startTestInstance({ PASSWORD_ATTEMPTS_PER_IP: '5' });
    try {
      await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
      await twofold.app.users.create(OPERATOR, { email: 'real@x.test', password: PASSWORD });
      const rp = await discover(twofold.url, 'app');
      for (let i = 0; i < 5; i += 1) {
        const page = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), `someone${i}@x.test`, 'guess');
        expect(page.status).toBe(401);
      }
      const paused = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), 'real@x.test', PASSWORD);
      expect(paused.status).toBe(429);
    } finally {
      await twofold.close();
    }
  });
});
