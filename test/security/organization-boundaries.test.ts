import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { adminBrowser, apiTokenFrom, callApi, postForm } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, signInWithPassword, startSignIn, type PendingSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, submitPasscode } from '../support/second-factor.js';
import { SoftwareKey } from '../support/software-key.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { ACR } from '../../src/policy/acr.js';

/*
 * The attacks of an organization owner on accounts that are not theirs (docs/security-model.md),
 * each written as the attack: Eve owns "Evil Corp", runs her own OpenID provider (a real one, started
 * here), and goes after a site admin and members of other organizations. Every attempt must fail to
 * get in, change nothing, and leave an audit entry where it is refused.
 */
describe('organizations are trust boundaries: an owner cannot reach another organization\'s accounts', () => {
  let fixture: Fixture;
  let upstream: Upstream;
  let eve: Browser;
  let eveToken: string;
  let rootSecret: string;
  let vicSecret: string;
  /** Signed in as the victims, each with their own second factor (an authenticator code works only one step ahead). */
  let rootAdmin: Browser;
  let vicAccount: Browser;
  const url = () => fixture.twofold.url;
  const app = () => fixture.twofold.app;
  const store = () => fixture.twofold.store;
  const user = async (email: string) => (await store().users.findByEmail(email))!;
  const organization = async (slug: string) => (await store().organizations.findBySlug(slug))!;
  const auditOf = async (slug: string | null) => {
    const id = slug ? (await organization(slug)).id : null;
    return (await store().audit.list(id, { limit: 500, offset: 0 })).events;
  };
  const isMember = async (slug: string, email: string) => (await store().memberships.find((await organization(slug)).id, (await user(email)).id)) !== null;

  /** Types only an email at the relying party's sign-in page, following the browser through Eve's provider if sent there. */
  const signInByEmail = async (email: string, parameters: Record<string, string> = {}, browser = new Browser(url())): Promise<{ browser: Browser; pending: PendingSignIn; page: Page }> => {
    const pending = await startSignIn(fixture.rp, parameters);
    const login = await browser.visit(pending.url.href);
    const page = await browser.submit(login, formAction(login.html, '/login'), { email, password: '' }, [upstream.issuer]);
    return { browser, pending, page };
  };
  /** What an account looks like to an attacker who wants it: its password, second factor, links, manager, memberships. */
  const snapshot = async (email: string) => {
    const account = await user(email);
    return {
      passwordHash: account.passwordHash,
      managedBy: account.managedBy,
      secondFactor: (await store().secondFactors.find(account.id))?.sealedSecret ?? null,
      memberships: (await store().memberships.listByUser(account.id)).map((membership) => membership.organizationId).sort(),
      linked: await store().identityLinks.findUser(upstream.issuer, `evil-${email}`),
    };
  };

  beforeAll(async () => {
    fixture = await startFixture();
    upstream = await startUpstream(`${url()}/federation/evil/callback`);
    const twofoldApp = app();
    await twofoldApp.organizations.create(OPERATOR, 'evil', 'Evil Corp');
    await twofoldApp.users.create(OPERATOR, { email: 'eve@evil.test', password: PASSWORD, orgs: [{ slug: 'evil', role: 'owner' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'root@site.test', password: PASSWORD, siteAdmin: true });
    await twofoldApp.users.create(OPERATOR, { email: 'vic@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });

    // The victims set up their own second factor the usual way: the site admin for /admin, the member
    // because her organization (city) forces it.
    const root = await adminBrowser(url(), 'root@site.test', PASSWORD);
    rootSecret = root.secret!;
    const vic = new Browser(url());
    vicSecret = (await completeSetup(vic, await signInWithPassword(vic, await startSignIn(fixture.rp), 'vic@city.test', PASSWORD))).secret;

    // Eve saves her own identity provider for her organization; a site admin assigned evil.test to it.
    eve = (await adminBrowser(url(), 'eve@evil.test', PASSWORD)).browser;
    const saved = await postForm(eve, '/admin/orgs/evil/identity-provider', { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: upstream.clientSecret });
    expect(saved.html).toMatch(/The identity provider was saved\./);
    await app().federation.assignDomains(null, await organization('evil'), ['evil.test'], null);
    eveToken = await apiTokenFrom(eve);
    // Her provider says whatever she likes: every victim's email, verified, with a second factor.
    upstream.amr = ['pwd', 'mfa'];
    for (const victim of ['root@site.test', 'vic@city.test']) {
      upstream.accounts.set(victim, { sub: `evil-${victim}`, email: victim, email_verified: true });
      upstream.accounts.set(`as-${victim.split('@')[0]}@evil.test`, { sub: `evil-${victim}`, email: victim, email_verified: true });
    }
  });
  afterAll(async () => {
    await upstream?.close();
    await fixture?.close();
  });

  it('adding an existing account only invites it: it is not a member, not sent to the owner\'s provider, not linked to it', async () => {
    const before = { root: await snapshot('root@site.test'), vic: await snapshot('vic@city.test') };
    const byPage = await postForm(eve, '/admin/orgs/evil/members', { email: 'root@site.test', role: 'owner' });
    expect(byPage.html).toMatch(/They already have an account, so they were e-mailed an invitation/);
    const byApi = await callApi(url(), eveToken, 'POST', '/admin/api/organizations/evil/members', { email: 'vic@city.test', role: 'member' });
    expect(byApi.status).toBe(201);
    expect(byApi.json).toEqual({ email: 'vic@city.test', status: 'invited' });
    await fixture.smtp.waitFor('vic@city.test', /invited to join an organization/);

    expect(await isMember('evil', 'root@site.test')).toBe(false);
    expect(await isMember('evil', 'vic@city.test')).toBe(false);
    // What Eve sees of them: the address she typed, not their 2FA status or last sign-in.
    const members = await eve.visit('/admin/orgs/evil/members');
    expect(members.html).toMatch(/Invited, not yet joined/);
    expect(members.html).not.toMatch(/vic@city\.test<\/span><\/td>/);
    const listed = await callApi(url(), eveToken, 'GET', '/admin/api/organizations/evil/members');
    expect(JSON.stringify(listed.json)).not.toMatch(/vic@city\.test|root@site\.test/);

    // Typing the victims' emails at a relying party keeps them on the password page here.
    for (const victim of ['root@site.test', 'vic@city.test']) {
      const { page } = await signInByEmail(victim);
      expect(page.status).toBe(400);
      expect(page.url.startsWith(url())).toBe(true);
      expect(page.html).toMatch(/Enter your password\./);
    }
    // An address at her own domain goes to her provider, which then asserts a victim's email: refused.
    for (const [alias, victim, log] of [['as-root@evil.test', 'root@site.test', null], ['as-vic@evil.test', 'vic@city.test', 'city']] as const) {
      const { page } = await signInByEmail(alias);
      expect(page.status).toBe(403);
      expect(page.html).toMatch(/could not be matched to an account here/);
      expect(page.url.startsWith(REDIRECT_URI)).toBe(false);
      const refused = (await auditOf(log)).filter((event) => event.action === 'federation.link_refused' && event.targetEmail === victim);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.details.organization).toBe('evil');
    }
    expect({ root: await snapshot('root@site.test'), vic: await snapshot('vic@city.test') }).toEqual(before);
    expect(await store().users.findByEmail('as-root@evil.test')).toBeNull();
  });

  it('the refusal reads the same whether or not the asserted account exists', async () => {
    upstream.accounts.set('ghost@evil.test', { sub: 'evil-ghost', email: 'nobody-here@city.test', email_verified: true });
    const missing = (await signInByEmail('ghost@evil.test')).page;
    const existing = (await signInByEmail('as-vic@evil.test')).page;
    expect(missing.status).toBe(existing.status);
    const sentence = (html: string) => /<p[^>]*>([^<]*could not be matched[^<]*)<\/p>/.exec(html)?.[1];
    expect(sentence(missing.html)).toBeDefined();
    expect(sentence(missing.html)).toBe(sentence(existing.html));
  });

  it('an owner cannot assign email domains, by page or by a forged form field: refused, nothing saved, recorded', async () => {
    const refusedBefore = (await auditOf('evil')).filter((event) => event.action === 'action.refused').length;
    const viaSettings = await postForm(eve, '/admin/orgs/evil/identity-provider', { issuer: upstream.issuer, clientId: upstream.clientId, domains: 'site.test, city.test' });
    expect(viaSettings.status).toBe(403);
    expect(viaSettings.html).toMatch(/Only a site admin can do this/);
    const viaDomains = await postForm(eve, '/admin/orgs/evil/domains', { domains: 'city.test', confirm: 'yes' });
    expect(viaDomains.status).toBe(403);
    const settings = await eve.visit('/admin/orgs/evil/settings');
    expect(settings.html).toMatch(/To assign an email domain to this organization, ask a site admin/);
    expect(settings.html).not.toMatch(/name="domains"/);
    expect((await organization('evil')).federation!.domains).toEqual(['evil.test']);
    expect(await store().organizations.findByFederatedDomain('city.test')).toBeNull();
    expect((await auditOf('evil')).filter((event) => event.action === 'action.refused').length).toBe(refusedBefore + 2);
  });

  it('even a domain a site admin assigns moves no existing account: the preview names them, and they keep their password', async () => {
    const evil = await organization('evil');
    const preview = await app().federation.previewDomains(null, evil, ['city.test'], null);
    expect(preview[0]!.outside.map((account) => account.email)).toContain('vic@city.test');
    await app().federation.assignDomains(null, evil, ['evil.test', 'city.test'], null);
    try {
      const before = await snapshot('vic@city.test');
      const { page } = await signInByEmail('vic@city.test');
      expect(page.html).toMatch(/Enter your password\./);
      expect(await snapshot('vic@city.test')).toEqual(before);
    } finally {
      await app().federation.assignDomains(null, await organization('evil'), ['evil.test'], null);
    }
  });

  it('an owner cannot trust her own provider for two-factor: refused and recorded', async () => {
    const refused = await postForm(eve, '/admin/orgs/evil/identity-provider/trust', { trustedForTwoFactor: 'on' });
    expect(refused.status).toBe(403);
    expect((await organization('evil')).federation!.trustedForTwoFactor).toBe(false);
    expect((await auditOf('evil')).some((event) => event.action === 'action.refused' && event.details.attempted === 'federation.trust')).toBe(true);
  });

  it('an upstream amr never stands in for Twofold\'s own second factor, unless a site admin trusts the provider', async () => {
    upstream.accounts.set('worker@evil.test', { sub: 'evil-worker', email: 'worker@evil.test', email_verified: true });
    const twoFactor = { acr_values: ACR.twoFactor };
    // The provider says "mfa", but nobody trusts it: the relying party's request gets Twofold's own.
    const first = await signInByEmail('worker@evil.test', twoFactor);
    expect(first.page.html).toMatch(/Set up two-factor authentication/);
    const { landed, secret } = await completeSetup(first.browser, first.page);
    const claims = (await exchangeCode(fixture.rp, landed.url, first.pending)).claims()!;
    expect(claims.acr).toBe(ACR.twoFactor);
    expect(claims.amr).toEqual(['fed', 'pwd', 'mfa', 'otp']);
    expect((await user('worker@evil.test')).managedBy).toBe((await organization('evil')).id);

    // Now enrolled, every sign-in needs the second factor: the provider's "mfa" is not it.
    const again = await signInByEmail('worker@evil.test');
    expect(again.page.html).toMatch(/One-time passcode/);
    const passed = await submitPasscode(again.browser, again.page, await codeAt(secret, 1));
    expect(passed.url.startsWith(REDIRECT_URI)).toBe(true);

    // A site admin trusts the provider: its second factor now counts as Twofold's.
    rootAdmin = (await adminBrowser(url(), 'root@site.test', PASSWORD, { secret: rootSecret, step: 1 })).browser;
    const trusted = await postForm(rootAdmin, '/admin/orgs/evil/identity-provider/trust', { trustedForTwoFactor: 'on' });
    expect(trusted.html).toMatch(/Saved how far this identity provider is trusted/);
    try {
      const trustedSignIn = await signInByEmail('worker@evil.test', twoFactor);
      expect(trustedSignIn.page.url.startsWith(REDIRECT_URI)).toBe(true);
      const trustedClaims = (await exchangeCode(fixture.rp, trustedSignIn.page.url, trustedSignIn.pending)).claims()!;
      expect(trustedClaims.acr).toBe(ACR.twoFactor);
      expect(trustedClaims.amr).toEqual(['fed', 'pwd', 'mfa']);

      // Changing the issuer withdraws the trust: it was given to that provider, not to the setting.
      const other = await startUpstream(`${url()}/federation/evil/callback`);
      try {
        const moved = await app().federation.configure(null, await organization('evil'), { issuer: other.issuer, clientId: other.clientId, clientSecret: other.clientSecret }, null);
        expect(moved.federation.trustedForTwoFactor).toBe(false);
      } finally {
        await other.close();
      }
    } finally {
      await app().federation.configure(null, await organization('evil'), { issuer: upstream.issuer, clientId: upstream.clientId, clientSecret: upstream.clientSecret }, null);
      await app().federation.setTrustedForTwoFactor(null, await organization('evil'), false, null);
    }
  });

  it('an owner cannot disable the 2FA of a member who also belongs to another organization, nor of anyone not her member', async () => {
    // Vic, talked into it, accepts Eve's invitation — signed in as herself, with her own passcode.
    vicAccount = new Browser(url());
    const vic = vicAccount;
    const signIn = await vic.visit('/account');
    const challenge = await vic.submit(signIn, formAction(signIn.html, '/login'), { email: 'vic@city.test', password: PASSWORD });
    const account = await submitPasscode(vic, challenge, await codeAt(vicSecret, 1));
    expect(account.html).toMatch(/Evil Corp<\/strong> invited you to join as a member \(invited by eve@evil\.test\)/);
    const joined = await vic.submit(account, formAction(account.html, '/accept'), {});
    expect(joined.html).toMatch(/You joined the organization\./);
    expect(await isMember('evil', 'vic@city.test')).toBe(true);
    expect((await auditOf('evil')).some((event) => event.action === 'member.joined' && event.actorEmail === 'vic@city.test')).toBe(true);

    const vicId = (await user('vic@city.test')).id;
    const before = await snapshot('vic@city.test');
    const refusedBefore = (await auditOf('evil')).filter((event) => event.action === 'action.refused' && event.targetEmail === 'vic@city.test').length;
    const confirm = await eve.visit(`/admin/orgs/evil/members/${vicId}/disable-2fa`);
    expect(confirm.html).toMatch(/Only a site admin can disable 2FA for vic@city\.test/);
    expect(confirm.html).not.toMatch(/name="reason"/);
    const byPage = await postForm(eve, `/admin/orgs/evil/members/${vicId}/disable-2fa`, { reason: 'lost phone' });
    expect(byPage.status).toBe(403);
    expect(byPage.html).toMatch(/also belongs to another organization, so only a site admin can disable/);
    const byApi = await callApi(url(), eveToken, 'POST', `/admin/api/organizations/evil/members/${vicId}/disable-2fa`, { reason: 'lost phone' });
    expect(byApi.status).toBe(403);
    expect(byApi.json.error).toBe('forbidden');
    expect(await snapshot('vic@city.test')).toEqual(before);
    expect((await auditOf('evil')).filter((event) => event.action === 'action.refused' && event.targetEmail === 'vic@city.test').length).toBe(refusedBefore + 2);

    // The site admin was only invited: to Eve he is no member at all.
    const rootId = (await user('root@site.test')).id;
    expect((await postForm(eve, `/admin/orgs/evil/members/${rootId}/disable-2fa`)).status).toBe(404);
    expect((await callApi(url(), eveToken, 'POST', `/admin/api/organizations/evil/members/${rootId}/disable-2fa`, {})).status).toBe(404);
    expect(await store().secondFactors.find(rootId)).not.toBeNull();
  });

  it('security keys count as a second factor at the boundary: an owner cannot remove another organization\'s member\'s keys, and her own member\'s go with Disable 2FA', async () => {
    /** Adds a security key through the application, as the account page does after re-authentication. */
    const addKey = async (email: string, name: string) => {
      const account = await user(email);
      const key = new SoftwareKey(url(), new URL(url()).hostname);
      const options = await app().secondFactors.keyRegistrationOptions(`test-${name}`, account);
      const added = await app().secondFactors.addSecurityKey(`test-${name}`, account, JSON.stringify(key.register({ challenge: options.challenge })), name, '192.0.2.1', { mailboxProvenAt: new Date() });
      expect(added.ok).toBe(true);
      return account.id;
    };
    // Vic (of city, and now of Eve's organization too) adds a key beside her app.
    const vicId = await addKey('vic@city.test', 'Vic key');
    const byPage = await postForm(eve, `/admin/orgs/evil/members/${vicId}/disable-2fa`, { reason: 'lost key' });
    expect(byPage.status).toBe(403);
    const byApi = await callApi(url(), eveToken, 'POST', `/admin/api/organizations/evil/members/${vicId}/disable-2fa`, { reason: 'lost key' });
    expect(byApi.status).toBe(403);
    expect((await store().securityKeys.listByUser(vicId)).map((key) => key.name)).toStrictEqual(['Vic key']);

    // An account of Eve's organization alone, with only a key: listed as enrolled, and hers to reset.
    await app().users.create(OPERATOR, { email: 'kit@elsewhere.test', password: PASSWORD, orgs: [{ slug: 'evil', role: 'member' }] });
    const kitId = await addKey('kit@elsewhere.test', 'Kit key');
    const listed = await callApi(url(), eveToken, 'GET', '/admin/api/organizations/evil/members');
    const kit = (listed.json.members as Array<{ email: string; twoFactor: { enrolled: boolean; securityKeys: number; recoveryCodesRemaining: number } }>).find((member) => member.email === 'kit@elsewhere.test');
    expect(kit?.twoFactor).toStrictEqual({ enrolled: true, strongestFactor: 'security-key', securityKeys: 1, recoveryCodesRemaining: 10, deadline: null, overdue: false });
    const members = await eve.visit('/admin/orgs/evil/members');
    expect(members.html).toMatch(/Enrolled<\/span> — security key or passkey\s+\(1 security key, 10 recovery codes left\)/);
    const reset = await callApi(url(), eveToken, 'POST', `/admin/api/organizations/evil/members/${kitId}/disable-2fa`, { reason: 'lost key' });
    expect(reset.status).toBe(200);
    expect(await store().securityKeys.listByUser(kitId)).toStrictEqual([]);
    expect(await store().secondFactors.find(kitId)).toBeNull();
  });

  it('only the invited account can answer its invitation, and declining leaves nothing behind', async () => {
    const invitation = (await store().membershipInvitations.listByUser((await user('root@site.test')).id))[0]!;
    // Vic (signed in) tries to accept the site admin's invitation by its id: not hers, so not found.
    expect((await postForm(vicAccount, `/account/invitations/${invitation.id}/accept`)).status).toBe(404);
    expect(await store().membershipInvitations.find(invitation.id)).not.toBeNull();

    // The site admin, signed in with his second factor, declines it.
    const account = await rootAdmin.visit('/account');
    expect(account.html).toMatch(/Evil Corp<\/strong> invited you to join as an owner/);
    const declined = await rootAdmin.submit(account, formAction(account.html, '/decline'), {});
    expect(declined.html).toMatch(/You declined the invitation\./);
    expect(await store().membershipInvitations.find(invitation.id)).toBeNull();
    expect(await isMember('evil', 'root@site.test')).toBe(false);
  });

  it('sessions and tokens made before enforcement stop working at the next request; signing in again returns to the page', async () => {
    await app().organizations.create(OPERATOR, 'springfield', 'Springfield');
    await app().users.create(OPERATOR, { email: 'olivia@springfield.test', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'owner' }] });
    const { browser: olivia } = await adminBrowser(url(), 'olivia@springfield.test', PASSWORD);
    expect((await olivia.visit('/account')).html).toMatch(/Your account/);
    const oldToken = await apiTokenFrom(olivia);
    expect((await callApi(url(), oldToken, 'GET', '/admin/api/organizations')).status).toBe(200);

    // Olivia switches enforcement on. From the next request, her password-only session no longer opens /admin.
    const saved = await postForm(olivia, '/admin/orgs/springfield/settings', { forceTwoFactor: 'on' });
    expect(saved.html).toMatch(/Set up two-factor authentication/);
    // That session switching it off again: refused, and it stays on.
    const off = await postForm(olivia, '/admin/orgs/springfield/settings', { forceTwoFactor: '' });
    expect(off.status).toBe(401);
    expect((await organization('springfield')).forceTwoFactor).toBe(true);
    expect((await olivia.visit('/account')).html).toMatch(/Set up two-factor authentication/);
    const stale = await callApi(url(), oldToken, 'PUT', '/admin/api/organizations/springfield/policy', { forceTwoFactor: false });
    expect(stale.status).toBe(401);
    expect(stale.json.error).toBe('insufficient_user_authentication');
    expect((await organization('springfield')).forceTwoFactor).toBe(true);
    const challenge = await fetch(new URL('/admin/api/organizations', url()), { headers: { authorization: `Bearer ${oldToken}` } });
    expect(challenge.headers.get('www-authenticate')).toMatch(/error="insufficient_user_authentication".*acr_values="urn:twofold:acr:two-factor"/);

    // Setting up the second factor from there brings her back to the page she was on.
    const { landed } = await completeSetup(olivia, saved);
    expect(landed.url).toStartWith(`${url()}/admin/orgs/springfield/settings?done=saved`);
    expect(landed.html).toMatch(/Saved\./);
    const newToken = await apiTokenFrom(olivia);
    expect((await callApi(url(), newToken, 'GET', '/admin/api/organizations')).status).toBe(200);
  });

  it('site admins need their second factor for /admin, also over a session that signed in without it', async () => {
    await app().users.create(OPERATOR, { email: 'new-admin@site.test', password: PASSWORD, siteAdmin: true });
    const browser = new Browser(url());
    const atRp = await signInWithPassword(browser, await startSignIn(fixture.rp), 'new-admin@site.test', PASSWORD);
    expect(atRp.url.startsWith(REDIRECT_URI)).toBe(true);
    const admin = await browser.visit('/admin');
    expect(admin.html).toMatch(/Set up two-factor authentication/);
    const { landed } = await completeSetup(browser, admin);
    expect(landed.html).toMatch(/Administration/);
  });

  it('grants the admin scope to the built-in admin app alone', async () => {
    const asked = await new Browser(url()).visit((await startSignIn(fixture.rp, { scope: 'openid twofold:admin' })).url.href);
    const back = new URL(asked.url);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(back.searchParams.get('error')).toBe('invalid_scope');
  });
});
