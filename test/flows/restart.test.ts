import { describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { Browser, formAction } from '../support/browser.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, startSignIn } from '../support/relying-party.js';
import { startTestInstance, tempDir } from '../support/twofold.js';

const PASSWORD = 'restart-proof password';

describe('a restart keeps keys, sessions, tokens and sign-ins in progress', () => {
  it('survives a restart on the same DATA_DIR', async () => {
    const env = { DATA_DIR: tempDir() };
    let twofold = await startTestInstance(env);
    const port = new URL(twofold.url).port;
    await twofold.app.users.create(OPERATOR, { email: 'ada@x.test', password: PASSWORD });
    await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });

    let rp = await discover(twofold.url, 'app');
    const jwksBefore = await (await fetch(`${twofold.url}/jwks`)).json();
    const browser = new Browser(twofold.url);
    const pending = await startSignIn(rp, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(rp, await signInAndAllow(browser, pending, 'ada@x.test', PASSWORD), pending);
    expect(tokens.refresh_token).toBeTruthy();

    const inProgress = await startSignIn(rp);
    const halfway = new Browser(twofold.url);
    const loginPage = await halfway.visit(inProgress.url.href);
    expect(loginPage.status).toBe(200);

    await twofold.close();
    // Let this process's fetch pool see the old server's sockets close, as a browser would on reconnect.
    await new Promise((resolve) => setTimeout(resolve, 200));
    twofold = await startTestInstance({ ...env, PORT: port });
    try {
      rp = await discover(twofold.url, 'app');
      // The signing keys are the same.
      expect(await (await fetch(`${twofold.url}/jwks`)).json()).toStrictEqual(jwksBefore);

      const silent = await startSignIn(rp, { prompt: 'none' });
      const silentCallback = (await browser.visit(silent.url.href)).url;
      // The SSO session survived.
      expect(new URL(silentCallback).searchParams.get('code')).toBeTruthy();
      const again = await exchangeCode(rp, silentCallback, silent);
      expect(again.claims()!.sub).toBe(tokens.claims()!.sub);

      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      // The refresh token still works.
      expect(refreshed.access_token).toBeTruthy();

      const finished = await halfway.submit(loginPage, formAction(loginPage.html, '/login'), { email: 'ada@x.test', password: PASSWORD });
      // The sign-in in progress completed.
      expect(finished.url).toStartWith(REDIRECT_URI);
      await exchangeCode(rp, finished.url, inProgress);
    } finally {
      await twofold.close();
    }
  });
});
