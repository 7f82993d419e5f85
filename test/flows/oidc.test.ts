import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { ACR } from '../../src/policy/acr.js';
import { Browser, formAction } from '../support/browser.js';
import { confirmSignOut } from '../support/fixture.js';
import {
  POST_LOGOUT_URI,
  REDIRECT_URI,
  discover,
  exchangeCode,
  oidc,
  signInAndAllow,
  signInWithPassword,
  startSignIn,
} from '../support/relying-party.js';
import { startTestInstance, type TestInstance } from '../support/twofold.js';

const PASSWORD = 'correct horse battery staple';

/** The OAuth error code openid-client rejected with, from the response body or a WWW-Authenticate challenge. */
const oauthErrorOf = async (request: Promise<unknown>): Promise<string> => {
  try {
    await request;
  } catch (caught) {
    const error = caught as { error?: string; cause?: { error?: string } | Array<{ parameters?: { error?: string } }> };
    const cause = error.cause;
    const fromChallenge = Array.isArray(cause) ? cause[0]?.parameters?.error : cause?.error;
    return error.error ?? fromChallenge ?? String(error);
  }
  return 'none: the request succeeded';
};

/** The error a redirect carries back to the relying party, in its query or (implicit modes) its fragment. */
const redirectError = (location: string) => {
  const url = new URL(location);
  return url.searchParams.get('error') ?? new URLSearchParams(url.hash.slice(1)).get('error');
};
const SECRET = 'a-confidential-client-secret-of-40-chars!';

describe('OIDC flows through the real app, with openid-client as the relying party', () => {
  let twofold: TestInstance;

  beforeAll(async () => {
    twofold = await startTestInstance();
    const twofoldApp = twofold.app;
    await twofoldApp.organizations.create(OPERATOR, 'city', 'City');
    await twofoldApp.users.create(OPERATOR, { email: 'ada@city.test', name: 'Ada', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    await twofoldApp.clients.create(OPERATOR, { clientId: 'spa', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], firstParty: true });
    await twofoldApp.clients.create(OPERATOR, { clientId: 'partner', redirectUris: [REDIRECT_URI], secret: SECRET });
  });

  afterAll(() => twofold.close());

  it('publishes discovery with PKCE, both ACR levels, refresh tokens and RP-initiated logout', async () => {
    const metadata = (await discover(twofold.url, 'spa')).serverMetadata();
    expect(metadata.issuer).toBe(twofold.url);
    expect(metadata.code_challenge_methods_supported).toStrictEqual(['S256']);
    expect(metadata.acr_values_supported).toStrictEqual([ACR.password, ACR.twoFactor, ACR.papeMultiFactor, ACR.phishingResistant]);
    expect(metadata.grant_types_supported).toContain('refresh_token');
    expect(metadata.end_session_endpoint).toBeTruthy();
    expect(metadata.response_types_supported).toStrictEqual(['code']);
  });

  it('signs a user in with code + PKCE for a first-party public client, without a consent page', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const landed = await signInWithPassword(browser, pending, 'Ada@City.test', PASSWORD);
    expect(landed.url).toStartWith(REDIRECT_URI);
    const tokens = await exchangeCode(rp, landed.url, pending);
    const claims = tokens.claims()!;
    expect(claims.email).toBe('ada@city.test');
    expect(claims.amr).toStrictEqual(['pwd']);
    expect(claims.acr).toBe(ACR.password);
    expect(typeof claims.auth_time).toBe('number');
    const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    expect(userinfo.name).toBe('Ada');
  });

  it('asks a third-party confidential client\'s user for consent, then exchanges with client_secret_basic', async () => {
    const rp = await discover(twofold.url, 'partner', SECRET);
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const consent = await signInWithPassword(browser, pending, 'ada@city.test', PASSWORD);
    expect(consent.status).toBe(200);
    expect(consent.html).toMatch(/Allow partner\?/);
    expect(consent.html).toMatch(/See your email address/);
    const allowed = await browser.submit(consent, formAction(consent.html, '/consent'), {});
    const tokens = await exchangeCode(rp, allowed.url, pending);
    expect(tokens.claims()!.email).toBe('ada@city.test');

    const wrongSecret = await discover(twofold.url, 'partner', `${SECRET}-wrong`);
    const again = await startSignIn(wrongSecret);
    const callback = (await browser.visit(again.url.href)).url;
    expect(await oauthErrorOf(exchangeCode(wrongSecret, callback, again))).toBe('invalid_client');
  });

  it('denying consent returns access_denied to the relying party', async () => {
    const rp = await discover(twofold.url, 'partner', SECRET);
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const consent = await signInWithPassword(browser, pending, 'ada@city.test', PASSWORD);
    const denied = await browser.submit(consent, formAction(consent.html, '/abort'), {});
    expect(new URL(denied.url).searchParams.get('error')).toBe('access_denied');
  });

  it('issues a refresh token for offline_access and refreshes it', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp, { scope: 'openid email offline_access', prompt: 'consent' });
    const browser = new Browser(twofold.url);
    const callback = await signInAndAllow(browser, pending, 'ada@city.test', PASSWORD);
    const tokens = await exchangeCode(rp, callback, pending);
    // A refresh token was issued.
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()!.sub).toBe(tokens.claims()!.sub);
    // A rotated refresh token cannot be used again.
    expect(await oauthErrorOf(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
  });

  it('signs out through RP-initiated logout, after which prompt=none needs a new sign-in', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const callback = await signInAndAllow(browser, pending, 'ada@city.test', PASSWORD);
    const tokens = await exchangeCode(rp, callback, pending);

    const silent = await startSignIn(rp, { prompt: 'none' });
    // The session signs in silently.
    expect(new URL((await browser.visit(silent.url.href)).url).searchParams.get('code')).toBeTruthy();

    const logoutUrl = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI });
    const confirm = await browser.visit(logoutUrl.href);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toMatch(/Sign out of Twofold\?/);
    const done = await confirmSignOut(browser, confirm);
    expect(done.url).toStartWith(POST_LOGOUT_URI);

    const afterLogout = await startSignIn(rp, { prompt: 'none' });
    expect(new URL((await browser.visit(afterLogout.url.href)).url).searchParams.get('error')).toBe('login_required');
  });

  it('answers a wrong password and an unknown email with the same sentence and status', async () => {
    const rp = await discover(twofold.url, 'spa');
    for (const [email, password] of [['ada@city.test', 'not the password'], ['nobody@city.test', PASSWORD], ['x'.repeat(5000), 'y']] as const) {
      const page = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), email, password);
      expect([email.slice(0, 20), page.status]).toStrictEqual([email.slice(0, 20), 401]);
      expect(page.html).toMatch(/Email or password is incorrect\./);
      expect(page.html).toMatch(/aria-invalid="true"/);
    }
  });

  it('answers malformed authorization requests with an OIDC error and never a 500', async () => {
    const rp = await discover(twofold.url, 'spa');
    const base = rp.serverMetadata().authorization_endpoint!;
    const valid = (await startSignIn(rp)).url;
    const variants: Array<[string, (url: URL) => void, RegExp | string]> = [
      ['no client_id', (url) => url.searchParams.delete('client_id'), /cannot accept|not registered/],
      ['unknown client', (url) => url.searchParams.set('client_id', 'nope'), /not registered/],
      ['unregistered redirect_uri', (url) => url.searchParams.set('redirect_uri', 'https://evil.test/cb'), /not registered/],
      ['no PKCE challenge', (url) => url.searchParams.delete('code_challenge'), 'invalid_request'],
      ['plain PKCE method', (url) => url.searchParams.set('code_challenge_method', 'plain'), 'invalid_request'],
      ['implicit response type', (url) => url.searchParams.set('response_type', 'token'), 'unsupported_response_type'],
      ['no openid scope', (url) => url.searchParams.set('scope', 'email'), 'invalid_request'],
      ['garbage claims parameter', (url) => url.searchParams.set('claims', '{not json'), 'invalid_request'],
      ['unknown prompt', (url) => url.searchParams.set('prompt', 'sideways'), 'invalid_request'],
    ];
    for (const [name, mutate, expected] of variants) {
      const url = new URL(valid.href);
      mutate(url);
      const response = await fetch(new URL(url.search, base), { redirect: 'manual' });
      expect([name, response.status]).toStrictEqual([name, expect.toBeWithinRange(100, 499)]);
      if (typeof expected === 'string') {
        // Redirected back to the relying party with the error.
        const location = response.headers.get('location');
        expect([name, response.status, location && redirectError(location)]).toStrictEqual([name, 303, expected]);
      } else {
        expect([name, response.status, await response.text()]).toStrictEqual([name, 400, expect.stringMatching(expected)]);
      }
    }
  });

  it('redeems an authorization code once, also when two exchanges race', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp);
    const callback = await signInAndAllow(new Browser(twofold.url), pending, 'ada@city.test', PASSWORD);
    const results = await Promise.allSettled([exchangeCode(rp, callback, pending), exchangeCode(rp, callback, pending)]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(await oauthErrorOf(exchangeCode(rp, callback, pending))).toBe('invalid_grant');
  });

  it('refuses a sign-in form without its CSRF token, and signs nobody in', async () => {
    const rp = await discover(twofold.url, 'spa');
    const browser = new Browser(twofold.url);
    const page = await browser.visit((await startSignIn(rp)).url.href);
    for (const token of ['', 'forged-token-forged-token-forged-token-abcd']) {
      const refused = await browser.visit(new URL(formAction(page.html, '/login'), page.url).href, {
        method: 'POST',
        body: new URLSearchParams({ _csrf: token, email: 'ada@city.test', password: PASSWORD }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(refused.status).toBe(403);
      expect(refused.html).toMatch(/This form has expired or was sent from another site/);
    }
    const json = await browser.request(new URL(formAction(page.html, '/login'), page.url).href, {
      method: 'POST',
      body: JSON.stringify({ email: 'ada@city.test', password: PASSWORD }),
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(415);
    const stillAtLogin = await browser.visit(page.url);
    expect(stillAtLogin.html).toMatch(/<label for="password">Password<\/label>/);
  });

  it('shows a sentence for an unknown or expired interaction', async () => {
    const page = await new Browser(twofold.url).visit('/interaction/this-does-not-exist');
    expect(page.status).toBe(400);
    expect(page.html).toMatch(/This sign-in has expired or was opened in another browser/);
  });

  it('serves pages with strict security headers and no caching', async () => {
    const rp = await discover(twofold.url, 'spa');
    const page = await new Browser(twofold.url).visit((await startSignIn(rp)).url.href);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')!).toMatch(/frame-ancestors 'none'/);
    expect(page.headers.get('content-security-policy')!).not.toMatch(/unsafe-inline/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.html).toMatch(/<label for="email">Email<\/label>/);
    expect(page.html).toMatch(/<button class="primary" type="submit">Sign in<\/button>/);
  });

  it('never writes a password into the log', () => {
    expect(twofold.logLines.length).toBeGreaterThan(0);
    for (const line of twofold.logLines) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(SECRET);
    }
  });
});
