import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { adminBrowser, postForm } from '../support/admin.js';
import { Browser } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { confirmSignOut } from '../support/fixture.js';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutReceiver, verifyLogoutToken } from '../support/logout-receiver.js';
import { startTwofoldProcess } from '../support/process.js';
import { POST_LOGOUT_URI, REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, startSignIn } from '../support/relying-party.js';
import { freePort, startTestInstance, tempDir, type TestInstance } from '../support/twofold.js';

const PASSWORD = 'a long enough password';

/** Several rounds of the worker loop (OUTBOX_POLL_SECONDS=1): a token sent twice would show. */
const someRounds = () => sleep(2500);

/*
 * OpenID Connect Back-Channel Logout 1.0: every way a session ends reaches the applications it signed
 * in to that registered a back-channel logout URI — once per session and application, through the
 * durable queue, from a real HTTP server acting as the application.
 */
describe('back-channel logout: the applications are told when a session ends', () => {
  let twofold: TestInstance;
  const receiver = new LogoutReceiver();
  let rp: oidc.Configuration;
  let people = 0;
  const person = async (orgs: Array<{ slug: string; role: 'owner' | 'member' }> = []) => {
    people += 1;
    return twofold.app.users.create(OPERATOR, { email: `person${people}@county.test`, password: PASSWORD, orgs });
  };
  /** Signs in at the portal in a browser of its own: its Twofold session, the tokens, and the session id the portal was told. */
  const signedIn = async (email: string, browser = new Browser(twofold.url)) => {
    const pending = await startSignIn(rp);
    const tokens = await exchangeCode(rp, await signInAndAllow(browser, pending, email, PASSWORD), pending);
    return { browser, tokens, sid: tokens.claims()!.sid as string };
  };
  /** The logout tokens received from `before` on, verified, with their claims. */
  const received = async (before: number) => Promise.all(receiver.tokens.slice(before).map((token) => verifyLogoutToken(token, twofold.url, 'portal')));

  beforeAll(async () => {
    twofold = await startTestInstance({ OUTBOX_POLL_SECONDS: '1', OUTBOX_RETRY_SECONDS: '1' });
    await twofold.app.organizations.create(OPERATOR, 'county', 'County');
    await twofold.app.users.create(OPERATOR, { email: 'olivia@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
    await twofold.app.clients.create(OPERATOR, {
      clientId: 'portal',
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: [POST_LOGOUT_URI],
      firstParty: true,
      backchannelLogoutUri: await receiver.start(),
    });
    await twofold.app.clients.create(OPERATOR, { clientId: 'quiet', redirectUris: [REDIRECT_URI], firstParty: true });
    rp = await discover(twofold.url, 'portal');
  });
  afterAll(async () => {
    await twofold.close();
    await receiver.close();
  });

  it('advertises back-channel logout with session ids, and the organization scope and claims, in discovery', async () => {
    const metadata = rp.serverMetadata();
    expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
    expect(metadata.scopes_supported).toContain('organizations');
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['organizations', 'org_slug']));
  });

  it('signs out through RP-initiated logout: one logout token, through the queue — not one inline and one queued', async () => {
    const ada = await person();
    const { browser, tokens, sid } = await signedIn(ada.email);
    // The same browser at an application that takes no logout tokens: nothing is queued for it.
    const quiet = await discover(twofold.url, 'quiet');
    const quietSignIn = await startSignIn(quiet, { prompt: 'none' });
    expect(new URL((await browser.visit(quietSignIn.url.href)).url).searchParams.get('code')).toBeTruthy();
    const before = receiver.tokens.length;

    const confirm = await browser.visit(oidc.buildEndSessionUrl(rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI }).href);
    const done = await confirmSignOut(browser, confirm);
    expect(done.url).toStartWith(POST_LOGOUT_URI);
    await receiver.waitForTokens(before + 1);
    await someRounds();
    const tokensSent = await received(before);
    expect(tokensSent).toHaveLength(1);
    expect(tokensSent[0]).toMatchObject({ iss: twofold.url, aud: 'portal', sub: ada.id, sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    expect(tokensSent[0]).not.toHaveProperty('nonce');
  });

  it('tells the application when an owner disables a member\'s 2FA, which ends their sessions', async () => {
    const max = await person([{ slug: 'county', role: 'member' }]);
    const { sid } = await signedIn(max.email);
    await twofold.store.secondFactors.enable({ userId: max.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
    const before = receiver.tokens.length;
    const { browser: owner } = await adminBrowser(twofold.url, 'olivia@county.test', PASSWORD);
    const disabled = await postForm(owner, `/admin/orgs/county/members/${max.id}/disable-2fa`, { reason: 'lost phone' });
    expect(disabled.html).toContain('Two-factor authentication was disabled.');
    await receiver.waitForTokens(before + 1);
    await someRounds();
    expect((await received(before)).map((claims) => [claims.sub, claims.sid])).toStrictEqual([[max.id, sid]]);
  });

  it('tells the application of the other sessions only when a person signs out every other session on /account', async () => {
    const nina = await person();
    const elsewhere = await signedIn(nina.email);
    const here = await signedIn(nina.email);
    expect(here.sid).not.toBe(elsewhere.sid);
    const before = receiver.tokens.length;
    expect((await here.browser.visit('/account')).html).toContain('Your account');
    const done = await postForm(here.browser, '/account/sessions/end-others');
    expect(done.html).toContain('Every other session is signed out.');
    await receiver.waitForTokens(before + 1);
    await someRounds();
    expect((await received(before)).map((claims) => [claims.sub, claims.sid])).toStrictEqual([[nina.id, elsewhere.sid]]);
    // This browser is still signed in at the portal.
    const silent = await startSignIn(rp, { prompt: 'none' });
    expect(new URL((await here.browser.visit(silent.url.href)).url).searchParams.get('code')).toBeTruthy();
  });
});

describe('back-channel logout with two servers on one store', () => {
  it('sends each queued logout token once, whichever of the two workers claims it', async () => {
    const receiver = new LogoutReceiver();
    const first = await startTestInstance({ OUTBOX_POLL_SECONDS: '1' });
    // Behind one load balancer: one issuer, and the signing keys in the store they share.
    const second = await startTestInstance({ OUTBOX_POLL_SECONDS: '1', DATA_DIR: first.config.dataDir, ISSUER: first.url });
    try {
      await first.app.clients.create(OPERATOR, { clientId: 'portal', redirectUris: [REDIRECT_URI], backchannelLogoutUri: await receiver.start() });
      const sids = Array.from({ length: 24 }, (_, n) => `race-${n}`);
      const now = new Date();
      await first.store.logoutNotices.record(sids.map((sid) => ({ clientId: 'portal', accountId: 'someone', sid })), now, new Date(now.getTime() + 3_600_000));
      await receiver.waitForTokens(sids.length);
      await someRounds();
      const claims = await Promise.all(receiver.tokens.map((token) => verifyLogoutToken(token, first.url, 'portal')));
      expect(claims.map((claim) => claim.sid).sort()).toStrictEqual([...sids].sort());
      expect([...first.logLines, ...second.logLines].filter((line) => line.includes('"logout token sent"'))).toHaveLength(sids.length);
    } finally {
      await second.close();
      await first.close();
      await receiver.close();
    }
  });
});

describe('back-channel logout from a server in its own process', () => {
  it('delivers the logout token of a suspension made at the command line to an application on loopback', async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const receiver = new LogoutReceiver();
    const uri = await receiver.start();
    const env = { DATA_DIR: dataDir, PORT: String(port), ISSUER: `http://localhost:${port}`, OUTBOX_POLL_SECONDS: '1', MONGODB_URI: '' };
    for (const argv of [
      ['user', 'create', 'max@county.test', '--password', PASSWORD],
      ['client', 'create', 'portal', '--redirect-uri', REDIRECT_URI, '--first-party', '--backchannel-logout-uri', uri],
    ]) expect((await cli(dataDir, argv, { env })).status).toBe(0);
    const server = await startTwofoldProcess(env);
    try {
      const rp = await discover(server.url, 'portal');
      const browser = new Browser(server.url);
      const pending = await startSignIn(rp);
      const sid = (await exchangeCode(rp, await signInAndAllow(browser, pending, 'max@county.test', PASSWORD), pending)).claims()!.sid;
      const suspended = await cli(dataDir, ['user', 'suspend', 'max@county.test', '--reason', 'laptop stolen'], { env });
      expect([suspended.status, suspended.out]).toStrictEqual([0, ['max@county.test is suspended: signed out everywhere, the applications told, and e-mailed.']]);
      // oidc-provider's own guard would refuse a private or loopback address; a registered back-channel logout URI is reached.
      const [token] = await receiver.waitForTokens(1);
      expect(await verifyLogoutToken(token!, server.url, 'portal')).toMatchObject({ sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
      expect(server.events().some((event) => event.message === 'logout token sent')).toBe(true);
    } finally {
      await server.stop();
      await receiver.close();
    }
  });
});
