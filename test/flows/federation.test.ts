import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { ACR } from '../../src/policy/acr.js';
import { adminBrowser, postForm } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, startSignIn, type PendingSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup } from '../support/second-factor.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { freePort } from '../support/twofold.js';

describe('organizations federated to their own identity provider (docs/security-model.md)', () => {
  let fixture: Fixture;
  let upstream: Upstream;
  const url = () => fixture.twofold.url;
  const store = () => fixture.twofold.store;

  /** Signs in at the relying party with only an email, following the browser through the upstream. */
  const signInFederated = async (email: string, browser = new Browser(url())): Promise<{ browser: Browser; pending: PendingSignIn; page: Page }> => {
    const pending = await startSignIn(fixture.rp);
    const login = await browser.visit(pending.url.href);
    const page = await browser.submit(login, formAction(login.html, '/login'), { email, password: '' }, [upstream.issuer]);
    return { browser, pending, page };
  };
  const counts = async () => ({
    users: await store().users.count(),
    links: (await store().audit.list((await store().organizations.findBySlug('county'))!.id, { limit: 500, offset: 0 })).events.filter((event) => event.action === 'federation.linked').length,
  });
  const expectFailure = async (email: string, sentence: RegExp, status: number, logged: RegExp) => {
    const before = await counts();
    const { page } = await signInFederated(email);
    expect(page.status).toBe(status);
    expect(page.html).toMatch(sentence);
    // No stack trace.
    expect(page.html).not.toMatch(/at [\w.]+ \(|node_modules/);
    expect(page.url).not.toStartWith(REDIRECT_URI);
    // No account was created or linked.
    expect(await counts()).toStrictEqual(before);
    // Logged for the operator.
    expect(fixture.twofold.logLines).toContainEqual(expect.stringMatching(logged));
  };

  beforeAll(async () => {
    fixture = await startFixture();
    upstream = await startUpstream(`${url()}/federation/county/callback`);
    const twofoldApp = fixture.twofold.app;
    const { federation } = twofoldApp;
    await twofoldApp.organizations.setForceTwoFactor(OPERATOR, 'county', true, null);
    const county = await twofoldApp.organizations.get(OPERATOR, 'county');
    await federation.assignDomains(null, await federation.configure(null, county, { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: upstream.clientSecret }, null), ['county.test'], null);
    await twofoldApp.users.create(OPERATOR, { email: 'clerk@county.test', name: 'Clerk', orgs: [{ slug: 'county', role: 'member' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'both@county.test', name: 'Both', orgs: [{ slug: 'county', role: 'member' }, { slug: 'city', role: 'member' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'mayor@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'owner' }] });
    upstream.accounts.set('clerk@county.test', { sub: 'upstream-clerk', email: 'clerk@county.test', email_verified: true, name: 'Clerk' });
    upstream.accounts.set('both@county.test', { sub: 'upstream-both', email: 'both@county.test', email_verified: true });
  });
  beforeEach(() => {
    upstream.amr = ['pwd'];
    upstream.cancel = false;
    upstream.tampering = 'none';
  });
  afterAll(async () => {
    await upstream?.close();
    await fixture?.close();
  });

  it('signs a member in at the upstream provider, without a Twofold passcode although the organization forces 2FA', async () => {
    const { pending, page } = await signInFederated('Clerk@County.test');
    expect(page.url).toStartWith(REDIRECT_URI);
    const claims = (await exchangeCode(fixture.rp, page.url, pending)).claims()!;
    expect(claims.email).toBe('clerk@county.test');
    expect(claims.amr).toStrictEqual(['fed', 'pwd']);
    expect(claims.acr).toBe(ACR.password);
    expect(await store().identityLinks.findUser(upstream.issuer, 'upstream-clerk')).toBe((await store().users.findByEmail('clerk@county.test'))!.id);
  });

  it('refuses the upstream sign-in of a suspended managed account — also after its owner removed it, which would otherwise add it back — and signs it in once reactivated', async () => {
    const leaver = await fixture.twofold.app.users.create(OPERATOR, { email: 'leaver@county.test', name: 'Leaver', orgs: [{ slug: 'county', role: 'member' }] });
    upstream.accounts.set('leaver@county.test', { sub: 'upstream-leaver', email: 'leaver@county.test', email_verified: true });
    expect((await signInFederated('leaver@county.test')).page.url).toStartWith(REDIRECT_URI);
    await fixture.twofold.app.members.remove(OPERATOR, 'county', leaver.id, null, { suspendAccount: { reason: 'left' } });

    const { page } = await signInFederated('leaver@county.test');
    expect([page.status, page.html]).toStrictEqual([403, expect.stringContaining("This account is suspended. Ask your organization's owner or IT team.")]);
    expect(page.url).not.toStartWith(REDIRECT_URI);
    // The upstream sign-in did not make it a member again.
    expect(await store().memberships.listByUser(leaver.id)).toStrictEqual([]);
    expect(fixture.twofold.logLines).toContainEqual(expect.stringMatching(/federation: a suspended account signed in upstream; refused/));

    await fixture.twofold.app.users.reactivate(OPERATOR, leaver.id, 'rehired', null);
    expect((await signInFederated('leaver@county.test')).page.url).toStartWith(REDIRECT_URI);
  });

  it('still applies a local organization\'s enforcement after the upstream sign-in', async () => {
    const { browser, pending, page } = await signInFederated('both@county.test');
    // City forces 2FA and is not federated.
    expect(page.html).toMatch(/Set up two-factor authentication/);
    const { landed, secret } = await completeSetup(browser, page);
    const claims = (await exchangeCode(fixture.rp, landed.url, pending)).claims()!;
    expect(claims.amr).toStrictEqual(['fed', 'pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe(ACR.twoFactor);

    // The next time, the second-factor prompt follows the upstream sign-in with the passcode challenge.
    const next = await signInFederated('both@county.test');
    expect(next.page.html).toMatch(/One-time passcode/);
    const passed = await next.browser.submit(next.page, formAction(next.page.html, '/challenge'), { passcode: await codeAt(secret, 1) });
    expect((await exchangeCode(fixture.rp, passed.url, next.pending)).claims()!.amr).toStrictEqual(['fed', 'pwd', 'otp', 'mfa']);
  });

  it('accepts the upstream\'s own second factor (amr mfa) for the local enforcement only when a site admin trusts the provider', async () => {
    await fixture.twofold.app.users.create(OPERATOR, { email: 'strong@county.test', orgs: [{ slug: 'county', role: 'member' }, { slug: 'city', role: 'member' }] });
    upstream.accounts.set('strong@county.test', { sub: 'upstream-strong', email: 'strong@county.test', email_verified: true });
    upstream.amr = ['pwd', 'mfa', 'hwk'];
    // Not trusted (the default): city's enforcement asks for Twofold's own second factor.
    const untrusted = await signInFederated('strong@county.test');
    expect(untrusted.page.html).toMatch(/Set up two-factor authentication/);

    const twofoldApp = fixture.twofold.app;
    const { federation } = twofoldApp;
    await federation.setTrustedForTwoFactor(null, await twofoldApp.organizations.get(OPERATOR, 'county'), true, null);
    try {
      const { pending, page } = await signInFederated('strong@county.test');
      expect(page.url).toStartWith(REDIRECT_URI);
      const claims = (await exchangeCode(fixture.rp, page.url, pending)).claims()!;
      expect(claims.amr).toStrictEqual(['fed', 'pwd', 'mfa', 'hwk']);
      expect(claims.acr).toBe(ACR.twoFactor);
    } finally {
      await federation.setTrustedForTwoFactor(null, await twofoldApp.organizations.get(OPERATOR, 'county'), false, null);
    }
  });

  it('links by upstream subject after the first sign-in, even if the email there changes', async () => {
    upstream.accounts.delete('clerk@county.test');
    upstream.accounts.set('clerk@county.test', { sub: 'upstream-clerk', email: 'renamed-clerk@county.test', email_verified: true });
    try {
      const { pending, page } = await signInFederated('clerk@county.test');
      const claims = (await exchangeCode(fixture.rp, page.url, pending)).claims()!;
      // The same Twofold account.
      expect(claims.email).toBe('clerk@county.test');
    } finally {
      upstream.accounts.set('clerk@county.test', { sub: 'upstream-clerk', email: 'clerk@county.test', email_verified: true, name: 'Clerk' });
    }
  });

  it('creates a member just in time for an email in the organization\'s domains', async () => {
    upstream.accounts.set('newcomer@county.test', { sub: 'upstream-newcomer', email: 'newcomer@county.test', email_verified: true, name: 'New Comer' });
    const { pending, page } = await signInFederated('newcomer@county.test');
    expect(page.url).toStartWith(REDIRECT_URI);
    await exchangeCode(fixture.rp, page.url, pending);
    const user = await store().users.findByEmail('newcomer@county.test');
    expect(user?.name).toBe('New Comer');
    expect(user?.passwordHash).toBeNull();
    const county = await store().organizations.findBySlug('county');
    expect((await store().memberships.find(county!.id, user!.id))?.role).toBe('member');
  });

  it('answers "Forgot your password?" for an account its organization signs in with "sign in there", and sends no link', async () => {
    upstream.accounts.set('forgetful@county.test', { sub: 'upstream-forgetful', email: 'forgetful@county.test', email_verified: true });
    const { page } = await signInFederated('forgetful@county.test');
    expect(page.url).toStartWith(REDIRECT_URI);
    const browser = new Browser(url());
    const forgot = await browser.visit('/password/forgot');
    const sent = await browser.submit(forgot, formAction(forgot.html, '/password/forgot'), { email: 'forgetful@county.test' });
    expect(sent.html).toMatch(/Check your e-mail/);
    const mail = await fixture.smtp.waitFor('forgetful@county.test', /Your account signs in at your organization/);
    expect(mail.text).toMatch(/County/);
    expect(mail.text).not.toMatch(/\/password\/reset\//);
    expect(fixture.smtp.messages.filter((message) => message.to === 'forgetful@county.test' && /^Set a new password$/.test(message.subject))).toHaveLength(0);
  });

  it('turns away a password link sent before the account was handed to the identity provider, setting nothing', async () => {
    const user = await fixture.twofold.app.users.create(OPERATOR, { email: 'handed@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'member' }] });
    const browser = new Browser(url());
    const forgot = await browser.visit('/password/forgot');
    await browser.submit(forgot, formAction(forgot.html, '/password/forgot'), { email: 'handed@county.test' });
    const link = /(http\S+\/password\/reset\/[\w-]+)/.exec((await fixture.smtp.waitFor('handed@county.test', /Set a new password/)).text)![1]!;
    await fixture.twofold.app.users.handTo(OPERATOR, user.id, 'county', null);
    // Handing it over took its password away; the old link must not give it one back.
    expect((await store().users.findById(user.id))?.passwordHash).toBeNull();

    const page = await browser.visit(link);
    expect(page.status).toBe(410);
    expect(page.html).toMatch(/now signs in at your organization(&#39;|')s own sign-in page/);
    expect(page.html).toMatch(/<a[^>]+href="\/account"[^>]*>Sign in<\/a>/);
    const token = new URL(link).pathname.split('/').pop()!;
    await expect(fixture.twofold.app.passwordLinks.setPassword('reset', token, 'another long password', 'another long password', '127.0.0.1')).rejects.toThrow(/no password here to set/);
    expect((await store().users.findById(user.id))?.passwordHash).toBeNull();
  });

  it('refuses to take over an account by asserting someone else\'s email', async () => {
    // The upstream account is in the county's domain (so it is sent upstream) but claims the email of
    // a local city owner: a different provider must not become a way into that account.
    upstream.accounts.set('intruder@county.test', { sub: 'upstream-intruder', email: 'mayor@city.test', email_verified: true });
    await expectFailure('intruder@county.test', /could not be matched to an account here\. Ask your organization's owner for help\./, 403, /federation: account not linked.*signs in here, not at this organization's identity provider/);
    expect(await store().identityLinks.findUser(upstream.issuer, 'upstream-intruder')).toBeNull();
    const mayor = await store().users.findByEmail('mayor@city.test');
    // The local account is untouched.
    expect(mayor?.passwordHash).toBeTruthy();

    upstream.accounts.set('unverified@county.test', { sub: 'upstream-unverified', email: 'unverified@county.test', email_verified: false });
    await expectFailure('unverified@county.test', /could not be matched to an account here/, 403, /federation: account not linked.*has not verified the email address/);
    expect(await store().users.findByEmail('unverified@county.test')).toBeNull();
  });

  it('explains each failure, changes nothing, and logs it for the operator', async () => {
    upstream.accounts.set('victim@county.test', { sub: 'upstream-victim', email: 'victim@county.test', email_verified: true });

    upstream.cancel = true;
    await expectFailure('victim@county.test', /You cancelled signing in at County\./, 400, /sign-in failed \(cancelled\)/);
    upstream.cancel = false;

    upstream.tampering = 'token-endpoint-down';
    await expectFailure('victim@county.test', /County's sign-in service cannot be reached right now/, 502, /sign-in failed \(unreachable\)/);

    upstream.tampering = 'bad-signature';
    await expectFailure('victim@county.test', /could not be verified, so you were not signed in/, 502, /sign-in failed \(unverifiable\)/);

    upstream.tampering = 'wrong-nonce';
    await expectFailure('victim@county.test', /could not be verified, so you were not signed in/, 502, /sign-in failed \(unverifiable\)/);
    upstream.tampering = 'none';

    const county = await fixture.twofold.app.organizations.get(OPERATOR, 'county');
    await fixture.twofold.app.federation.configure(null, county, { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: 'not-the-secret' }, null);
    try {
      await expectFailure('victim@county.test', /does not accept this site's credentials/, 502, /sign-in failed \(misconfigured\).*client id and secret/);
    } finally {
      await fixture.twofold.app.federation.configure(null, await fixture.twofold.app.organizations.get(OPERATOR, 'county'), { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: upstream.clientSecret }, null);
    }

    const forged = await new Browser(url()).visit('/federation/county/callback?code=forged&state=forged');
    expect(forged.status).toBe(400);
    expect(forged.html).toMatch(/could not be matched to one you started here/);
    // No failure created the account.
    expect(await store().users.findByEmail('victim@county.test')).toBeNull();
  });

  it('refuses a wrong state: a callback from another sign-in than the one this browser started', async () => {
    upstream.accounts.set('twice@county.test', { sub: 'upstream-twice', email: 'twice@county.test', email_verified: true });
    const browser = new Browser(url());
    const first = await browser.visit((await startSignIn(fixture.rp)).url.href);
    const toUpstream = await browser.submit(first, formAction(first.html, '/login'), { email: 'twice@county.test', password: '' });
    // The first sign-in went upstream.
    expect(toUpstream.url).toStartWith(upstream.issuer);
    const second = await browser.visit((await startSignIn(fixture.rp)).url.href);
    await browser.submit(second, formAction(second.html, '/login'), { email: 'twice@county.test', password: '' });
    const firstReturn = await browser.visit(toUpstream.url, {}, [upstream.issuer]);
    expect(firstReturn.status).toBe(400);
    expect(firstReturn.html).toMatch(/could not be matched to one you started here|did not complete/);
  });

  it('lets an owner or site admin set, test and remove the identity provider in Settings', async () => {
    await fixture.twofold.app.organizations.create(OPERATOR, 'parks', 'Parks');
    await fixture.twofold.app.users.create(OPERATOR, { email: 'root@site.test', password: PASSWORD, siteAdmin: true });
    const { browser } = await adminBrowser(url(), 'root@site.test', PASSWORD);
    const settings = await browser.visit('/admin/orgs/parks/settings');
    const closedPort = await freePort();
    expect(settings.html).toMatch(/<h2 id="idp-heading">Identity provider<\/h2>/);
    expect(settings.html).toMatch(new RegExp(`<code>${url()}/federation/parks/callback</code>`));
    for (const [fields, sentence] of [
      [{ issuer: 'ftp://idp.test', clientId: 'x', clientSecret: 'y' }, /The issuer must be an https URL\./],
      [{ issuer: upstream.issuer, clientId: '', clientSecret: 'y' }, /Enter the client id/],
      [{ issuer: upstream.issuer, clientId: 'x', clientSecret: '' }, /Enter the client secret/],
      // Checked before it is saved: an unreachable provider, or one that calls itself by another name.
      [{ issuer: `http://localhost:${closedPort}`, clientId: 'x', clientSecret: 'y' }, new RegExp(`Nothing was saved: http://localhost:${closedPort} did not answer as an OpenID Connect provider \\(it could not be reached\\)`)],
      [{ issuer: `${upstream.issuer}/`.replace('localhost', '127.0.0.1').slice(0, -1), clientId: upstream.clientId, clientSecret: upstream.clientSecret }, /Nothing was saved: http:\/\/127\.0\.0\.1:\d+ did not answer as an OpenID Connect provider \(its answer is not a discovery document for that issuer\)/],
    ] as const) {
      const refused = await postForm(browser, '/admin/orgs/parks/identity-provider', fields);
      expect([fields, refused.status]).toStrictEqual([fields, expect.toBeWithinRange(400, 499)]);
      expect(refused.html).toMatch(sentence);
    }
    // Nothing saved.
    expect((await store().organizations.findBySlug('parks'))?.federation).toBeNull();

    const saved = await postForm(browser, '/admin/orgs/parks/identity-provider', { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: upstream.clientSecret });
    expect(saved.html).toMatch(/The identity provider was saved\./);
    // Email domains are the site admin's: checked first, with the accounts outside the organization that use them.
    for (const [domains, sentence] of [['county.test', /already belongs to another organization/], ['not_a_domain', /is not an email domain/]] as const) {
      const refused = await postForm(browser, '/admin/orgs/parks/domains', { domains, confirm: 'yes' });
      expect([domains, refused.status]).toStrictEqual([domains, expect.toBeWithinRange(400, 499)]);
      expect(refused.html).toMatch(sentence);
    }
    await fixture.twofold.app.users.create(OPERATOR, { email: 'ranger@parks.test', password: PASSWORD });
    const preview = await postForm(browser, '/admin/orgs/parks/domains', { domains: 'parks.test' });
    expect(preview.html).toMatch(/1 existing account outside Parks uses parks\.test\. It keeps signing in as now:/);
    expect(preview.html).toMatch(/<li>ranger@parks\.test<\/li>/);
    expect((await store().organizations.findBySlug('parks'))!.federation!.domains).toStrictEqual([]);
    const assigned = await postForm(browser, '/admin/orgs/parks/domains', { domains: 'parks.test', confirm: 'yes' });
    expect(assigned.html).toMatch(/The email domains were saved\./);
    expect((await store().organizations.findBySlug('parks'))!.federation!.domains).toStrictEqual(['parks.test']);
    const tested = await postForm(browser, '/admin/orgs/parks/identity-provider/test');
    expect(tested.html).toMatch(new RegExp(`Connected: ${upstream.issuer} answers`));
    const parks = await store().organizations.findBySlug('parks');
    expect(parks!.federation!.sealedClientSecret).not.toContain(upstream.clientSecret);
    const actions = (await store().audit.list(parks!.id, { limit: 10, offset: 0 })).events.map((event) => event.action);
    expect(actions).toContain('federation.changed');
    const removed = await postForm(browser, '/admin/orgs/parks/identity-provider/remove');
    expect(removed.html).toMatch(/The identity provider was removed\. Accounts it managed cannot sign in until a site admin lets them set a password here\./);
    expect((await store().organizations.findBySlug('parks'))?.federation).toBeNull();
  });

  it('keeps local members on the password page and says which field is missing', async () => {
    const browser = new Browser(url());
    const login = await browser.visit((await startSignIn(fixture.rp)).url.href);
    expect(login.html).toMatch(/If your organization signs you in with its own account, leave this empty\./);
    const empty = await browser.submit(login, formAction(login.html, '/login'), { email: 'mayor@city.test', password: '' });
    expect(empty.status).toBe(400);
    expect(empty.html).toMatch(/Enter your password\./);
  });
});
