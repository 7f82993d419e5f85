import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACR } from '../../src/provider/acr.js';
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

/** For assert.rejects: the OAuth error code openid-client surfaced. */
const oauthError = (code: string) => (error: { error?: string; cause?: { error?: string } | Array<{ parameters?: { error?: string } }> }) => {
  const cause = error.cause;
  const fromChallenge = Array.isArray(cause) ? cause[0]?.parameters?.error : cause?.error;
  assert.equal(error.error ?? fromChallenge, code, String(error));
  return true;
};

/** The error a redirect carries back to the relying party, in its query or (implicit modes) its fragment. */
const redirectError = (location: string) => {
  const url = new URL(location);
  return url.searchParams.get('error') ?? new URLSearchParams(url.hash.slice(1)).get('error');
};
const SECRET = 'a-confidential-client-secret-of-40-chars!';

describe('OIDC flows through the real app, with openid-client as the relying party', () => {
  let twofold: TestInstance;

  before(async () => {
    twofold = await startTestInstance();
    const { directory } = twofold.app;
    await directory.createOrganization('city', 'City');
    await directory.createUser({ email: 'ada@city.test', name: 'Ada', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    await directory.createClient({ clientId: 'spa', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], firstParty: true });
    await directory.createClient({ clientId: 'partner', redirectUris: [REDIRECT_URI], secret: SECRET });
  });

  after(() => twofold.close());

  it('publishes discovery with PKCE, both ACR levels, refresh tokens and RP-initiated logout', async () => {
    const metadata = (await discover(twofold.url, 'spa')).serverMetadata();
    assert.equal(metadata.issuer, twofold.url);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.acr_values_supported, [ACR.password, ACR.twoFactor, ACR.papeMultiFactor]);
    assert.ok(metadata.grant_types_supported?.includes('refresh_token'));
    assert.ok(metadata.end_session_endpoint);
    assert.deepEqual(metadata.response_types_supported, ['code']);
  });

  it('signs a user in with code + PKCE for a first-party public client, without a consent page', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const landed = await signInWithPassword(browser, pending, 'Ada@City.test', PASSWORD);
    assert.ok(landed.url.startsWith(REDIRECT_URI), `went to ${landed.url}`);
    const tokens = await exchangeCode(rp, landed.url, pending);
    const claims = tokens.claims()!;
    assert.equal(claims.email, 'ada@city.test');
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.acr, ACR.password);
    assert.equal(typeof claims.auth_time, 'number');
    const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    assert.equal(userinfo.name, 'Ada');
  });

  it('asks a third-party confidential client\'s user for consent, then exchanges with client_secret_basic', async () => {
    const rp = await discover(twofold.url, 'partner', SECRET);
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const consent = await signInWithPassword(browser, pending, 'ada@city.test', PASSWORD);
    assert.equal(consent.status, 200);
    assert.match(consent.html, /Allow partner\?/);
    assert.match(consent.html, /See your email address/);
    const allowed = await browser.submit(consent, formAction(consent.html, '/consent'), {});
    const tokens = await exchangeCode(rp, allowed.url, pending);
    assert.equal(tokens.claims()!.email, 'ada@city.test');

    const wrongSecret = await discover(twofold.url, 'partner', `${SECRET}-wrong`);
    const again = await startSignIn(wrongSecret);
    const callback = (await browser.visit(again.url.href)).url;
    await assert.rejects(exchangeCode(wrongSecret, callback, again), oauthError('invalid_client'));
  });

  it('denying consent returns access_denied to the relying party', async () => {
    const rp = await discover(twofold.url, 'partner', SECRET);
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const consent = await signInWithPassword(browser, pending, 'ada@city.test', PASSWORD);
    const denied = await browser.submit(consent, formAction(consent.html, '/abort'), {});
    assert.equal(new URL(denied.url).searchParams.get('error'), 'access_denied');
  });

  it('issues a refresh token for offline_access and refreshes it', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp, { scope: 'openid email offline_access', prompt: 'consent' });
    const browser = new Browser(twofold.url);
    const callback = await signInAndAllow(browser, pending, 'ada@city.test', PASSWORD);
    const tokens = await exchangeCode(rp, callback, pending);
    assert.ok(tokens.refresh_token, 'a refresh token was issued');
    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.equal(refreshed.claims()!.sub, tokens.claims()!.sub);
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token), oauthError('invalid_grant'), 'a rotated refresh token cannot be used again');
  });

  it('signs out through RP-initiated logout, after which prompt=none needs a new sign-in', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp);
    const browser = new Browser(twofold.url);
    const callback = await signInAndAllow(browser, pending, 'ada@city.test', PASSWORD);
    const tokens = await exchangeCode(rp, callback, pending);

    const silent = await startSignIn(rp, { prompt: 'none' });
    assert.ok(new URL((await browser.visit(silent.url.href)).url).searchParams.get('code'), 'the session signs in silently');

    const logoutUrl = oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI });
    const confirm = await browser.visit(logoutUrl.href);
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, /Sign out of Twofold\?/);
    const done = await confirmSignOut(browser, confirm);
    assert.ok(done.url.startsWith(POST_LOGOUT_URI), `went to ${done.url}`);

    const afterLogout = await startSignIn(rp, { prompt: 'none' });
    assert.equal(new URL((await browser.visit(afterLogout.url.href)).url).searchParams.get('error'), 'login_required');
  });

  it('answers a wrong password and an unknown email with the same sentence and status', async () => {
    const rp = await discover(twofold.url, 'spa');
    for (const [email, password] of [['ada@city.test', 'not the password'], ['nobody@city.test', PASSWORD], ['x'.repeat(5000), 'y']] as const) {
      const page = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), email, password);
      assert.equal(page.status, 401, `status for ${email.slice(0, 20)}`);
      assert.match(page.html, /Email or password is incorrect\./);
      assert.match(page.html, /aria-invalid="true"/);
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
      assert.ok(response.status < 500, `${name}: status ${response.status}`);
      if (typeof expected === 'string') {
        assert.equal(response.status, 303, `${name}: redirected back with the error`);
        assert.equal(redirectError(response.headers.get('location')!), expected, name);
      } else {
        assert.equal(response.status, 400, name);
        assert.match(await response.text(), expected, name);
      }
    }
  });

  it('redeems an authorization code once, also when two exchanges race', async () => {
    const rp = await discover(twofold.url, 'spa');
    const pending = await startSignIn(rp);
    const callback = await signInAndAllow(new Browser(twofold.url), pending, 'ada@city.test', PASSWORD);
    const results = await Promise.allSettled([exchangeCode(rp, callback, pending), exchangeCode(rp, callback, pending)]);
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    await assert.rejects(exchangeCode(rp, callback, pending), oauthError('invalid_grant'));
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
      assert.equal(refused.status, 403);
      assert.match(refused.html, /This form has expired or was sent from another site/);
    }
    const json = await browser.request(new URL(formAction(page.html, '/login'), page.url).href, {
      method: 'POST',
      body: JSON.stringify({ email: 'ada@city.test', password: PASSWORD }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(json.status, 415);
    const stillAtLogin = await browser.visit(page.url);
    assert.match(stillAtLogin.html, /<label for="password">Password<\/label>/);
  });

  it('shows a sentence for an unknown or expired interaction', async () => {
    const page = await new Browser(twofold.url).visit('/interaction/this-does-not-exist');
    assert.equal(page.status, 400);
    assert.match(page.html, /This sign-in has expired or was opened in another browser/);
  });

  it('serves pages with strict security headers and no caching', async () => {
    const rp = await discover(twofold.url, 'spa');
    const page = await new Browser(twofold.url).visit((await startSignIn(rp)).url.href);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(page.headers.get('content-security-policy')!, /frame-ancestors 'none'/);
    assert.doesNotMatch(page.headers.get('content-security-policy')!, /unsafe-inline/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.html, /<label for="email">Email<\/label>/);
    assert.match(page.html, /<button class="primary" type="submit">Sign in<\/button>/);
  });

  it('never writes a password into the log', () => {
    assert.ok(twofold.logLines.length > 0);
    for (const line of twofold.logLines) {
      assert.ok(!line.includes(PASSWORD) && !line.includes(SECRET), line);
    }
  });
});
