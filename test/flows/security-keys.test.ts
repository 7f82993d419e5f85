import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { emailCodeFor, recoveryCodesOf } from '../support/second-factor.js';
import { SoftwareKey, webauthnOptionsOf } from '../support/software-key.js';

/**
 * Security keys over real HTTP with a key made in Node (test/support/software-key.ts): the same
 * pages a browser's script answers, the forms posted with their CSRF token, the ID token read by
 * openid-client.
 */
describe('security keys over HTTP', () => {
  let fixture: Fixture;
  let key: SoftwareKey;
  let email: string;

  beforeAll(async () => {
    fixture = await startFixture();
    email = await fixture.newUser([{ slug: 'city', role: 'member' }]);
    key = new SoftwareKey(fixture.twofold.url, new URL(fixture.twofold.url).hostname);
  });
  afterAll(() => fixture.close());

  const amrOf = async (browser: Browser, landed: Page, pending: Awaited<ReturnType<typeof startSignIn>>) => {
    expect(landed.url).toMatch(new RegExp(`^${REDIRECT_URI}`));
    const tokens = await exchangeCode(fixture.rp, landed.url, pending);
    return { amr: [...(tokens.claims()!.amr as string[])].sort(), acr: tokens.claims()!.acr };
  };

  it('sets up with a key only, then signs in with it; the ID token says hwk and mfa', async () => {
    const browser = new Browser(fixture.twofold.url);
    const pending = await startSignIn(fixture.rp);
    const setup = await signInWithPassword(browser, pending, email, PASSWORD);
    expect(setup.html).toContain('Use a security key or passkey instead');
    const keyPage = await browser.visit(/href="([^"]+\/setup\/security-key)"/.exec(setup.html)![1]!);
    const options = webauthnOptionsOf(keyPage)!;
    expect(options.rp?.id).toBe('127.0.0.1');
    const codesPage = await browser.submit(keyPage, formAction(keyPage.html, '/setup/security-key'), { name: 'Desk key', response: JSON.stringify(key.register({ challenge: options.challenge })), ...(await emailCodeFor(keyPage)) });
    expect(recoveryCodesOf(codesPage.html)).toHaveLength(10);
    const landed = await browser.submit(codesPage, formAction(codesPage.html, '/continue'), {});
    expect(await amrOf(browser, landed, pending)).toStrictEqual({ amr: ['hwk', 'mfa', 'pwd'], acr: 'urn:twofold:acr:phishing-resistant' });

    const again = new Browser(fixture.twofold.url);
    const next = await startSignIn(fixture.rp);
    const challenge = await signInWithPassword(again, next, email, PASSWORD);
    expect(challenge.html).toContain('Use your security key or passkey');
    expect(challenge.html).not.toContain('One-time passcode');
    const signed = await again.submit(challenge, formAction(challenge.html, '/security-key'), { response: JSON.stringify(key.sign({ challenge: webauthnOptionsOf(challenge)!.challenge })) });
    expect((await amrOf(again, signed, next)).amr).toStrictEqual(['hwk', 'mfa', 'pwd']);
  });

  it('answers bad and replayed answers with a sentence and a 4xx, and counts them as attempts', async () => {
    const browser = new Browser(fixture.twofold.url);
    const challenge = await signInWithPassword(browser, await startSignIn(fixture.rp), email, PASSWORD);
    const action = formAction(challenge.html, '/security-key');
    const garbage = await browser.submit(challenge, action, { response: '{"not": "an answer"}' });
    expect(garbage.status).toBe(400);
    expect(garbage.html).toContain('Your security key or passkey did not answer');

    const answer = JSON.stringify(key.sign({ challenge: webauthnOptionsOf(garbage)!.challenge }));
    const wrongKey = await browser.submit(garbage, action, { response: JSON.stringify(new SoftwareKey(fixture.twofold.url, '127.0.0.1').sign({ challenge: webauthnOptionsOf(garbage)!.challenge })) });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.html).toContain('That security key or passkey was not accepted');
    // The answer to the spent challenge is refused too, although its signature is right.
    const replayed = await browser.submit(wrongKey, action, { response: answer });
    expect(replayed.status).toBe(400);
    const user = (await fixture.twofold.store.users.findByEmail(email))!;
    expect((await fixture.twofold.store.attempts.peek(`second-factor:account:${user.id}`, new Date()))?.count).toBe(2);

    const noForm = await browser.visit(action.replace('/security-key', '/setup/security-key').replace('/login/', '/'));
    expect(noForm.status).toBeGreaterThanOrEqual(400);
    expect(noForm.status).toBeLessThan(500);
  });

  it('refuses removing a key that is not on the account, and the last one while the organization requires it', async () => {
    const user = (await fixture.twofold.store.users.findByEmail(email))!;
    const [saved] = await fixture.twofold.store.securityKeys.listByUser(user.id);
    const removal = await fixture.twofold.app.secondFactors.removeSecurityKey(user, saved!.credentialId, '192.0.2.1');
    expect(removal).toStrictEqual({ ok: false, error: expect.stringContaining('This is your only second factor'), status: 409 });
    expect(await fixture.twofold.app.secondFactors.removeSecurityKey(user, 'not-a-key', '192.0.2.1')).toMatchObject({ ok: false, status: 404 });
    expect(await fixture.twofold.store.securityKeys.listByUser(user.id)).toHaveLength(1);
  });
});
