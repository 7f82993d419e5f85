import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { issueAdminApiToken } from '../../src/admin/api-tokens.js';
import { ACR } from '../../src/policy/acr.js';
import { adminBrowser, callApi, postForm } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, oidc, signInAndAllow, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, emailCodeFor, recoveryCodesOf } from '../support/second-factor.js';
import { reportSkip } from '../support/skips.js';
import { SoftwareKey, webauthnOptionsOf } from '../support/software-key.js';
import { writeInDatabase } from '../support/twofold.js';

/*
 * What someone holding only a signed-in browser session (a laptop left open, a stolen cookie) or a
 * remembered browser can do, and what a leaked older link can — written as the attacks, each after a
 * control run of the legitimate path, with the outcome read from the database and from what a
 * relying party obtains (docs/security-model.md, "Sessions are not people").
 */

const REMEMBERED_COOKIE = 'twofold.remembered-browser';
const DAY_MS = 24 * 60 * 60 * 1000;

describe('a session alone, a remembered browser, an older link', () => {
  let fixture: Fixture;
  const twofold = () => fixture.twofold;
  const store = () => fixture.twofold.store;
  const user = async (email: string) => (await store().users.findByEmail(email))!;
  const key = () => new SoftwareKey(twofold().url, new URL(twofold().url).hostname);

  beforeAll(async () => {
    fixture = await startFixture();
    // An organization that forces 2FA and lets a browser be remembered for 7 days.
    await twofold().app.organizations.create(OPERATOR, 'keep', 'Keep');
    await twofold().app.organizations.setRollout(OPERATOR, 'keep', { rememberBrowserDays: 7 }, null);
    await twofold().app.organizations.setForceTwoFactor(OPERATOR, 'keep', true, null);
  });
  afterAll(() => fixture.close());

  /** Signs in to /account with the password (and the passcode of `secret`, when set) in a fresh browser. */
  const accountSession = async (email: string, secret?: string, browser = new Browser(twofold().url)) => {
    const login = await browser.visit('/account');
    let page = await browser.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
    if (secret) page = await browser.submit(page, formAction(page.html, '/challenge'), { passcode: await codeAt(secret, 0) });
    expect(page.html).toContain('<h1>Your account</h1>');
    return { browser, page };
  };
  /** A member who set up an authenticator app through the pages; returns the secret and recovery codes. */
  const enrolledMember = async (slug: string, role: 'owner' | 'member' = 'member') => {
    const email = await fixture.newUser([{ slug, role }]);
    const browser = new Browser(twofold().url);
    const setup = await signInWithPassword(browser, await startSignIn(fixture.rp), email, PASSWORD);
    const { secret, codes } = await completeSetup(browser, setup, -1);
    return { email, secret, codes };
  };
  const keysOf = async (email: string) => (await store().securityKeys.listByUser((await user(email)).id)).map((saved) => saved.credentialId);

  describe('adding a security key on /account', () => {
    it('control: after the password and passcode, the browser\'s key is added', async () => {
      const { email, secret } = await enrolledMember('city');
      const { browser, page } = await accountSession(email, secret);
      const asked = await browser.submit(page, formAction(page.html, '/security-keys/add'), { 'add-key-password': PASSWORD, 'add-key-passcode': await codeAt(secret, 1) });
      const options = webauthnOptionsOf(asked, 'register');
      expect(options).not.toBeNull();
      const mine = key();
      const added = await browser.submit(asked, formAction(asked.html, '/security-keys/new'), { name: 'My key', response: JSON.stringify(mine.register({ challenge: options!.challenge })) });
      expect(added.url).toMatch(/\/account\?done=key-added$/);
      expect(await keysOf(email)).toStrictEqual([mine.id]);
    });

    it('a failed addition spends the challenge and asks for the password again: the session holder\'s key is never added (with 2FA on)', async () => {
      const { email, secret } = await enrolledMember('city');
      const { browser, page } = await accountSession(email, secret);
      // The person re-authenticates and is shown registration options…
      const asked = await browser.submit(page, formAction(page.html, '/security-keys/add'), { 'add-key-password': PASSWORD, 'add-key-passcode': await codeAt(secret, 1) });
      const theirs = webauthnOptionsOf(asked, 'register')!;
      // …then whoever holds the session posts first: an empty name, an answer that is not one.
      const attacker = key();
      const failed = await postForm(browser, '/account/security-keys/new', { name: '', response: 'garbage' });
      expect(failed.status).toBe(400);
      expect(failed.html).toContain('Give the key a name');
      expect(webauthnOptionsOf(failed, 'register')).toBeNull();
      expect(failed.html).toMatch(/<label for="add-key-password">Current password<\/label>/);
      // No options are left to answer: not the person's, not new ones.
      expect((await browser.visit('/account/security-keys/new')).url).toMatch(/\/account$/);
      for (const challenge of [theirs.challenge, webauthnOptionsOf(failed, 'authenticate')?.challenge ?? 'none']) {
        const forged = await postForm(browser, '/account/security-keys/new', { name: 'Attacker key', response: JSON.stringify(attacker.register({ challenge })) });
        expect(forged.status).toBe(400);
        expect(forged.url).not.toContain('done=key-added');
      }
      expect(await keysOf(email)).toStrictEqual([]);
      // And the key cannot pass the account's second factor at a relying party.
      const rp = new Browser(twofold().url);
      const challenge = await signInWithPassword(rp, await startSignIn(fixture.rp), email, PASSWORD);
      expect(challenge.html).not.toContain('Use your security key or passkey');
    });

    it('the same on an account without 2FA: the session holder cannot turn it on with their own key, nor see recovery codes', async () => {
      const email = await fixture.newUser([{ slug: 'county', role: 'member' }]);
      // Control: the person's own addition, after the password, works and turns 2FA on.
      const control = await fixture.newUser([{ slug: 'county', role: 'member' }]);
      const own = await accountSession(control);
      const ownAsked = await own.browser.submit(own.page, formAction(own.page.html, '/security-keys/add'), { 'add-key-password': PASSWORD });
      const ownKey = key();
      const codes = await own.browser.submit(ownAsked, formAction(ownAsked.html, '/security-keys/new'), { name: 'Mine', response: JSON.stringify(ownKey.register({ challenge: webauthnOptionsOf(ownAsked, 'register')!.challenge })), ...(await emailCodeFor(ownAsked)) });
      expect(recoveryCodesOf(codes.html)).toHaveLength(10);

      const { browser, page } = await accountSession(email);
      const wrongPassword = await browser.submit(page, formAction(page.html, '/security-keys/add'), { 'add-key-password': 'not the password' });
      expect(wrongPassword.status).toBe(401);
      expect(webauthnOptionsOf(wrongPassword, 'register')).toBeNull();
      const failed = await postForm(browser, '/account/security-keys/new', { name: '', response: '' });
      expect(failed.status).toBe(400);
      expect(webauthnOptionsOf(failed, 'register')).toBeNull();
      const attacker = key();
      const forged = await postForm(browser, '/account/security-keys/new', { name: 'Attacker', response: JSON.stringify(attacker.register({ challenge: 'AAAA' })) });
      expect(forged.status).toBe(400);
      expect(recoveryCodesOf(forged.html)).toStrictEqual([]);
      expect((await browser.visit('/account/recovery-codes')).url).toMatch(/\/account$/);
      expect(await store().secondFactors.find((await user(email)).id)).toBeNull();
      expect(await keysOf(email)).toStrictEqual([]);
    });
  });

  describe('an owner on a remembered browser', () => {
    let owner: { email: string; secret: string; codes: string[] };
    let token: string;
    let member: string;
    const rememberedBrowser = (value: string) => {
      const browser = new Browser(twofold().url);
      const host = new URL(twofold().url).hostname;
      browser.cookies.set(`${host}|${REMEMBERED_COOKIE}|/`, { name: REMEMBERED_COOKIE, value, path: '/', host });
      return browser;
    };
    const ADMIN_PAGES: Array<[method: 'GET' | 'POST', path: (memberId: string) => string, fields?: Record<string, string>]> = [
      ['GET', () => '/admin'],
      ['GET', () => '/admin/orgs/keep/settings'],
      ['POST', () => '/admin/orgs/keep/settings', { forceTwoFactor: '' }],
      ['GET', () => '/admin/orgs/keep/members'],
      ['POST', () => '/admin/orgs/keep/members', { email: 'newcomer@keep.test', role: 'member' }],
      ['POST', (id) => `/admin/orgs/keep/members/${id}/role`, { role: 'owner' }],
      ['GET', (id) => `/admin/orgs/keep/members/${id}/disable-2fa`],
      ['POST', (id) => `/admin/orgs/keep/members/${id}/disable-2fa`, { reason: 'lost phone' }],
      ['POST', (id) => `/admin/orgs/keep/members/${id}/remove`],
      ['GET', () => '/admin/orgs/keep/audit'],
      ['POST', () => '/admin/api-token'],
    ];
    const API_ROUTES: Array<[method: string, path: (memberId: string) => string, body?: unknown]> = [
      ['GET', () => '/admin/api/organizations'],
      ['GET', () => '/admin/api/organizations/keep/policy'],
      ['PUT', () => '/admin/api/organizations/keep/policy', { forceTwoFactor: false }],
      ['GET', () => '/admin/api/organizations/keep/members'],
      ['POST', () => '/admin/api/organizations/keep/members', { email: 'newcomer@keep.test' }],
      ['PUT', (id) => `/admin/api/organizations/keep/members/${id}/role`, { role: 'owner' }],
      ['POST', (id) => `/admin/api/organizations/keep/members/${id}/disable-2fa`, { reason: 'lost phone' }],
      ['DELETE', (id) => `/admin/api/organizations/keep/members/${id}`],
      ['GET', () => '/admin/api/organizations/keep/audit'],
    ];
    const keepState = async () => {
      const keep = (await store().organizations.findBySlug('keep'))!;
      const memberUser = await user(member);
      return {
        force: keep.forceTwoFactor,
        membership: (await store().memberships.find(keep.id, memberUser.id))?.role,
        memberEnrolled: (await store().secondFactors.find(memberUser.id)) !== null,
        newcomer: await store().users.findByEmail('newcomer@keep.test'),
      };
    };

    beforeAll(async () => {
      owner = await enrolledMember('keep', 'owner');
      member = (await enrolledMember('keep')).email;
      token = (await twofold().app.secondFactors.rememberBrowser(await user(owner.email), 'Firefox on Linux', '127.0.0.1'))!.token;
    });

    it('control: the remembered browser signs the owner in to an application and to /account with the password alone', async () => {
      const pending = await startSignIn(fixture.rp);
      const landed = await signInWithPassword(rememberedBrowser(token), pending, owner.email, PASSWORD);
      expect(landed.url).toStartWith(REDIRECT_URI);
      expect((await exchangeCode(fixture.rp, landed.url, pending)).claims()!.acr).toBe(ACR.rememberedBrowser);
      await accountSession(owner.email, undefined, rememberedBrowser(token));
    });

    it('control: with her passcode, she reaches the members page and the API', async () => {
      const { browser } = await adminBrowser(twofold().url, owner.email, PASSWORD, { secret: owner.secret, step: 1 });
      expect((await browser.request('/admin/orgs/keep/members')).status).toBe(200);
    });

    it('the password alone on that browser opens no /admin page: the passcode is asked, and every page and form refuses', async () => {
      const before = await keepState();
      const browser = rememberedBrowser(token);
      // Signed in to /account on that browser first: its Twofold session is on the remembered level.
      await accountSession(owner.email, undefined, browser);
      const asked = await browser.visit('/admin');
      expect(asked.html).toMatch(/<label for="passcode">One-time passcode<\/label>/);
      // And so is a fresh sign-in there with the password on that browser.
      const fresh = rememberedBrowser(token);
      const login = await fresh.visit('/admin');
      const freshlyAsked = await fresh.submit(login, formAction(login.html, '/login'), { email: owner.email, password: PASSWORD });
      expect(freshlyAsked.html).toMatch(/<label for="passcode">One-time passcode<\/label>/);
      const memberId = (await user(member)).id;
      for (const [method, pathOf, fields] of ADMIN_PAGES) {
        const page = method === 'GET' ? await browser.visit(pathOf(memberId)) : await postForm(browser, pathOf(memberId), fields);
        // A GET is sent to sign in (where the passcode is asked); a form is refused.
        if (method === 'GET') expect(page.html).toMatch(/One-time passcode|<label for="email">Email<\/label>/);
        else expect(page.status).toBe(401);
        expect(page.html).not.toContain('Members of Keep');
      }
      expect(await keepState()).toStrictEqual(before);
    });

    it('an admin API token made over a remembered-browser session opens no API route', async () => {
      const before = await keepState();
      const browser = rememberedBrowser(token);
      const pending = await startSignIn(fixture.rp);
      expect((await signInWithPassword(browser, pending, owner.email, PASSWORD)).url).toStartWith(REDIRECT_URI);
      const sessionId = [...browser.cookies.values()].find((cookie) => cookie.name === '_session')!.value;
      const session = (await twofold().app.provider.Session.find(sessionId))!;
      expect(session.acr).toBe(ACR.rememberedBrowser);
      const apiToken = (await issueAdminApiToken(twofold().app.provider, await user(owner.email), { user: await user(owner.email), sessionId, sessionUid: session.uid, acr: session.acr })).value;
      const memberId = (await user(member)).id;
      for (const [method, pathOf, body] of API_ROUTES) {
        const answer = await callApi(twofold().url, apiToken, method, pathOf(memberId), body);
        expect([method, pathOf(memberId), answer.status]).toStrictEqual([method, pathOf(memberId), 401]);
        expect(answer.json.error).toBe('insufficient_user_authentication');
      }
      expect(await keepState()).toStrictEqual(before);
    });
  });

  describe('refresh tokens of a remembered-browser sign-in', () => {
    const signInWithRefresh = async (browser: Browser, email: string) => {
      const pending = await startSignIn(fixture.rp, { scope: 'openid offline_access', prompt: 'consent' });
      const tokens = await exchangeCode(fixture.rp, await signInAndAllow(browser, pending, email, PASSWORD), pending);
      expect(tokens.refresh_token).toBeTruthy();
      return tokens;
    };
    const rememberedBrowserOf = async (email: string) => {
      const remembered = (await twofold().app.secondFactors.rememberBrowser(await user(email), 'Firefox on Linux', '127.0.0.1'))!;
      const browser = new Browser(twofold().url);
      const host = new URL(twofold().url).hostname;
      browser.cookies.set(`${host}|${REMEMBERED_COOKIE}|/`, { name: REMEMBERED_COOKIE, value: remembered.token, path: '/', host });
      const [record] = await store().rememberedBrowsers.listByUser((await user(email)).id);
      return { browser, id: record!.id };
    };

    it('stop working once that browser is removed, while a full sign-in\'s keep working', async () => {
      const { email, secret } = await enrolledMember('keep');
      const { browser, id } = await rememberedBrowserOf(email);
      const remembered = await signInWithRefresh(browser, email);
      expect(remembered.claims()!.acr).toBe(ACR.rememberedBrowser);
      // Control: it refreshes while the browser is remembered.
      const refreshed = await oidc.refreshTokenGrant(fixture.rp, remembered.refresh_token!);
      // A full two-factor sign-in in another browser.
      const other = new Browser(twofold().url);
      const pending = await startSignIn(fixture.rp, { scope: 'openid offline_access', prompt: 'consent' });
      const challenge = await signInWithPassword(other, pending, email, PASSWORD);
      const landed = await other.submit(challenge, formAction(challenge.html, '/challenge'), { passcode: await codeAt(secret, 1) });
      const full = await exchangeCode(fixture.rp, landed.url, pending);

      expect(await twofold().app.secondFactors.forgetBrowser(await user(email), id, '127.0.0.1')).toBe(true);
      await expect(oidc.refreshTokenGrant(fixture.rp, refreshed.refresh_token!)).rejects.toHaveProperty('error', 'invalid_grant');
      expect((await oidc.refreshTokenGrant(fixture.rp, full.refresh_token!)).access_token).toBeTruthy();
    });

    it('stop working once that browser has expired', async () => {
      if (store().kind !== 'sqlite') return reportSkip('refresh after a remembered browser expired', 'dates are moved in the embedded SQLite database');
      const { email } = await enrolledMember('keep');
      const { browser, id } = await rememberedBrowserOf(email);
      const tokens = await signInWithRefresh(browser, email);
      const refreshed = await oidc.refreshTokenGrant(fixture.rp, tokens.refresh_token!);
      writeInDatabase(twofold(), 'UPDATE remembered_browsers SET created_at = ?, expires_at = ? WHERE id = ?', Date.now() - 8 * DAY_MS, Date.now() - DAY_MS, id);
      await expect(oidc.refreshTokenGrant(fixture.rp, refreshed.refresh_token!)).rejects.toHaveProperty('error', 'invalid_grant');
    });
  });

  describe('password links', () => {
    const requestLink = async (email: string) => {
      const browser = new Browser(twofold().url);
      const forgot = await browser.visit('/password/forgot');
      await browser.submit(forgot, formAction(forgot.html, '/password/forgot'), { email });
    };
    /** The reset links e-mailed to `email`, oldest first. */
    const links = async (email: string, count: number) => {
      await fixture.smtp.waitFor(email, /^Set a new password$/);
      for (let waited = 0; fixture.smtp.messages.filter((message) => message.to === email).length < count && waited < 50; waited += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      return fixture.smtp.messages.filter((message) => message.to === email && /^Set a new password$/.test(message.subject)).map((message) => /(https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]+)/.exec(message.text)![1]!);
    };
    const setPassword = async (link: string, password: string) => {
      const browser = new Browser(twofold().url);
      const form = await browser.visit(link);
      if (form.status !== 200) return form;
      return browser.submit(form, formAction(form.html, new URL(link).pathname), { password, confirm: password });
    };

    it('an older reset link stops working once a newer one set the password', async () => {
      const email = await fixture.newUser([{ slug: 'county', role: 'member' }]);
      await requestLink(email);
      await requestLink(email);
      const [older, newer] = await links(email, 2);
      expect(older).not.toBe(newer);
      // Control: the newer link sets the password.
      expect((await setPassword(newer!, 'the newer password')).status).toBe(200);
      const stale = await setPassword(older!, 'the older link\'s password');
      expect(stale.status).toBe(410);
      expect(stale.html).toContain('Ask for a new link');
      const checked = await twofold().app.signIns.checkPassword(email, 'the newer password', '192.0.2.9');
      expect(checked.kind).toBe('ok');
    });

    it('an outstanding reset link stops working once the password is changed on /account', async () => {
      const email = await fixture.newUser([{ slug: 'county', role: 'member' }]);
      await requestLink(email);
      const [link] = await links(email, 1);
      const { browser, page } = await accountSession(email);
      const changed = await browser.submit(page, formAction(page.html, '/password'), { 'password-password': PASSWORD, 'password-new': 'a brand new password', 'password-confirm': 'a brand new password' });
      expect(changed.url).toMatch(/done=password$/);
      expect((await setPassword(link!, 'the old link\'s password')).status).toBe(410);
      expect((await twofold().app.signIns.checkPassword(email, 'a brand new password', '192.0.2.9')).kind).toBe('ok');
    });
  });

  describe('removing security keys', () => {
    it('two removals racing never leave a user whom a rule requires a second factor with none', async () => {
      const email = await fixture.newUser([{ slug: 'city', role: 'member' }]);
      const first = key();
      const second = key();
      // Set up with a key through the pages (recovery codes shown), then a second key beside it.
      const browser = new Browser(twofold().url);
      const setup = await signInWithPassword(browser, await startSignIn(fixture.rp), email, PASSWORD);
      const keyPage = await browser.visit(/href="([^"]+\/setup\/security-key)"/.exec(setup.html)![1]!);
      const codesPage = await browser.submit(keyPage, formAction(keyPage.html, '/setup/security-key'), { name: 'First', response: JSON.stringify(first.register({ challenge: webauthnOptionsOf(keyPage, 'register')!.challenge })), ...(await emailCodeFor(keyPage)) });
      const codes = recoveryCodesOf(codesPage.html);
      expect(codes).toHaveLength(10);
      await store().securityKeys.add({ credentialId: second.id, userId: (await user(email)).id, name: 'Second', publicKey: 'unused', counter: 0, transports: [], synced: false }, { recoveryKeyId: 'unused', recoveryCodeHashes: [] });

      const account = new Browser(twofold().url);
      const login = await account.visit('/account');
      const challenge = await account.submit(login, formAction(login.html, '/login'), { email, password: PASSWORD });
      const opened = await account.submit(challenge, formAction(challenge.html, '/security-key'), { response: JSON.stringify(first.sign({ challenge: webauthnOptionsOf(challenge, 'authenticate')!.challenge })) });
      expect(opened.html).toContain('<h1>Your account</h1>');

      const remove = (credentialId: string, recoveryCode: string) => postForm(account, `/account/security-keys/${encodeURIComponent(credentialId)}/remove`, { 'remove-key-password': PASSWORD, 'remove-key-recoveryCode': recoveryCode });
      const raced = await Promise.all([remove(first.id, codes[0]!), remove(second.id, codes[1]!)]);
      // One goes and the other is refused; the embedded database decides one at a time (a store without transactions may refuse both).
      const refused = raced.filter((page) => page.status === 409);
      expect(raced.filter((page) => page.url.endsWith('/account?done=key-removed')).length + refused.length).toBe(2);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused.every((page) => page.html.includes('This is your only second factor'))).toBe(true);
      if (store().kind === 'sqlite') expect(await keysOf(email)).toHaveLength(1);
      expect((await keysOf(email)).length).toBeGreaterThanOrEqual(1);
      expect(await store().secondFactors.find((await user(email)).id)).not.toBeNull();
      const [left] = await keysOf(email);
      const last = await remove(left!, codes[2]!);
      expect(last.status).toBe(409);
      expect(await keysOf(email)).toHaveLength(1);
    });

    it('the same race inside the application layer, where both removals read the keys before either removes one', async () => {
      const email = await fixture.newUser([{ slug: 'city', role: 'member' }]);
      const target = await user(email);
      const [one, two] = [key(), key()];
      for (const each of [one, two]) {
        await store().securityKeys.add({ credentialId: each.id, userId: target.id, name: each.id.slice(0, 8), publicKey: 'unused', counter: 0, transports: [], synced: false }, { recoveryKeyId: 'unused', recoveryCodeHashes: [] });
      }
      const raced = await Promise.all([one, two].map((each) => twofold().app.secondFactors.removeSecurityKey(target, each.id, '192.0.2.1')));
      expect(raced.filter((outcome) => !outcome.ok).map((outcome) => !outcome.ok && outcome.status)).toContain(409);
      expect((await keysOf(email)).length).toBeGreaterThanOrEqual(1);
      expect(await store().secondFactors.find(target.id)).not.toBeNull();
    });
  });
});
