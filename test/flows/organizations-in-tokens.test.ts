import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { adminApiToken, callApi } from '../support/admin.js';
import { Browser, formAction } from '../support/browser.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { startTestInstance, type TestInstance } from '../support/twofold.js';

const PASSWORD = 'a long enough password';
const SECRET = 'a-confidential-client-secret-of-40-chars!';

async function oauthErrorOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (caught) {
    return (caught as { error?: string }).error ?? String(caught);
  }
  return 'none: the request succeeded';
}

/*
 * Organizations in tokens: the `organizations` scope lists a person's accepted memberships in the ID
 * token and userinfo, read afresh at every refresh; `organization:<slug>` signs in for one
 * organization — its members get `org_slug`, anyone else a page that says so and the application
 * `access_denied`.
 */
describe('organizations in tokens, and sign-in for one organization', () => {
  let twofold: TestInstance;
  let rp: oidc.Configuration;
  let ownerToken: string;
  let kim: { id: string; email: string };

  beforeAll(async () => {
    twofold = await startTestInstance();
    const app = twofold.app;
    await app.organizations.create(OPERATOR, 'county', 'County');
    await app.organizations.create(OPERATOR, 'parks', 'Parks Department');
    await app.organizations.create(OPERATOR, 'harbor', 'Harbor');
    await app.users.create(OPERATOR, { email: 'olivia@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
    kim = await app.users.create(OPERATOR, { email: 'kim@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'member' }, { slug: 'parks', role: 'owner' }] });
    // Invited to the harbor, not yet accepted: no membership.
    await app.members.add((await app.users.create(OPERATOR, { email: 'hal@harbor.test', password: PASSWORD, orgs: [{ slug: 'harbor', role: 'owner' }] })), 'harbor', { email: 'kim@county.test', role: 'member' }, null);
    await app.clients.create(OPERATOR, { clientId: 'portal', redirectUris: [REDIRECT_URI], firstParty: true });
    await app.clients.create(OPERATOR, { clientId: 'partner', name: 'Partner portal', redirectUris: [REDIRECT_URI], secret: SECRET });
    rp = await discover(twofold.url, 'portal');
    ownerToken = await adminApiToken(twofold.url, 'olivia@county.test', PASSWORD);
  });
  afterAll(() => twofold.close());

  it('puts the accepted memberships in the ID token and userinfo, and a refresh reads them again after a removal', async () => {
    const pending = await startSignIn(rp, { scope: 'openid organizations offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(rp, await signInAndAllow(new Browser(twofold.url), pending, kim.email, PASSWORD), pending);
    const memberships = [{ slug: 'county', name: 'County', role: 'member' }, { slug: 'parks', name: 'Parks Department', role: 'owner' }];
    expect(tokens.claims()!.organizations).toStrictEqual(memberships);
    expect((await oidc.fetchUserInfo(rp, tokens.access_token, kim.id)).organizations).toStrictEqual(memberships);

    // County's owner removes her; the relying party's next refresh no longer lists County.
    expect((await callApi(twofold.url, ownerToken, 'DELETE', `/admin/api/organizations/county/members/${kim.id}`)).status).toBe(200);
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.claims()!.organizations).toStrictEqual([{ slug: 'parks', name: 'Parks Department', role: 'owner' }]);
    expect((await oidc.fetchUserInfo(rp, refreshed.access_token, kim.id)).organizations).toStrictEqual([{ slug: 'parks', name: 'Parks Department', role: 'owner' }]);

    // Without the scope, no memberships.
    const plain = await startSignIn(rp, { scope: 'openid email' });
    const plainTokens = await exchangeCode(rp, await signInAndAllow(new Browser(twofold.url), plain, kim.email, PASSWORD), plain);
    expect(plainTokens.claims()).not.toHaveProperty('organizations');
    expect(plainTokens.claims()).not.toHaveProperty('org_slug');
    await twofold.app.members.add(OPERATOR, 'county', { email: kim.email, role: 'member' }, null);
  });

  it('signs a member in for her organization, with org_slug, and refuses her refresh token once she has left it', async () => {
    const pending = await startSignIn(rp, { scope: 'openid organization:parks offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(rp, await signInAndAllow(new Browser(twofold.url), pending, kim.email, PASSWORD), pending);
    expect(tokens.claims()).toMatchObject({ sub: kim.id, org_slug: 'parks' });
    expect(tokens.claims()).not.toHaveProperty('organizations');
    expect((await oidc.refreshTokenGrant(rp, tokens.refresh_token!)).claims()!.org_slug).toBe('parks');

    // A third-party application asking the same, after its consent page.
    const partner = await discover(twofold.url, 'partner', SECRET);
    const partnerPending = await startSignIn(partner, { scope: 'openid organizations organization:parks' });
    const browser = new Browser(twofold.url);
    const consent = await signInWithPassword(browser, partnerPending, kim.email, PASSWORD);
    expect(consent.html).toContain('See which organizations you belong to, and your role in each');
    expect(consent.html).toContain('Sign you in for the organization “parks”');
    const allowed = await browser.submit(consent, formAction(consent.html, '/consent'), {});
    expect((await exchangeCode(partner, allowed.url, partnerPending)).claims()).toMatchObject({ org_slug: 'parks', organizations: expect.arrayContaining([expect.objectContaining({ slug: 'parks' })]) });

    // Leaving Parks (made a member first, so that Parks keeps an owner) ends what the sign-in for Parks gave.
    const second = await startSignIn(rp, { scope: 'openid organization:parks offline_access', prompt: 'consent' });
    const later = await exchangeCode(rp, await signInAndAllow(new Browser(twofold.url), second, kim.email, PASSWORD), second);
    await twofold.app.users.create(OPERATOR, { email: 'pia@parks.test', password: PASSWORD, orgs: [{ slug: 'parks', role: 'owner' }] });
    await twofold.app.members.remove(OPERATOR, 'parks', kim.id, null);
    expect(await oauthErrorOf(oidc.refreshTokenGrant(rp, later.refresh_token!))).toBe('invalid_grant');
  });

  it('tells a person who is not a member so, and the application gets access_denied — also silently, and also for an invitation not yet accepted', async () => {
    const browser = new Browser(twofold.url);
    const pending = await startSignIn(rp, { scope: 'openid organization:harbor' });
    const page = await signInWithPassword(browser, pending, kim.email, PASSWORD);
    expect(page.status).toBe(403);
    expect(page.html).toContain('<h1>You are not a member of Harbor.</h1>');
    const back = /<a class="button primary" href="([^"]+)">Back to portal<\/a>/.exec(page.html)?.[1];
    expect(back).toBeTruthy();
    const answer = new URL((await browser.visit(back!.replaceAll('&amp;', '&'))).url);
    expect([answer.origin + answer.pathname, answer.searchParams.get('error'), answer.searchParams.get('code'), answer.searchParams.get('state')]).toStrictEqual([REDIRECT_URI, 'access_denied', null, pending.state]);

    // Her session is still there: a silent request for Harbor gets access_denied at once, one for County a code.
    const silent = await startSignIn(rp, { scope: 'openid organization:harbor', prompt: 'none' });
    expect(new URL((await browser.visit(silent.url.href)).url).searchParams.get('error')).toBe('access_denied');
    const county = await startSignIn(rp, { scope: 'openid organization:county', prompt: 'none' });
    const countyTokens = await exchangeCode(rp, (await browser.visit(county.url.href)).url, county);
    expect(countyTokens.claims()!.org_slug).toBe('county');

    // An organization that does not exist, and two at once, are refused the same way.
    const nowhere = await browser.visit((await startSignIn(rp, { scope: 'openid organization:atlantis' })).url.href);
    expect([nowhere.status, nowhere.html.includes('<h1>You are not a member of atlantis.</h1>')]).toStrictEqual([403, true]);
    const several = await browser.visit((await startSignIn(rp, { scope: 'openid organization:county organization:parks' })).url.href);
    expect([several.status, several.html.includes('asked to sign you in for several organizations at once')]).toStrictEqual([403, true]);
  });
});
