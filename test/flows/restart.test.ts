import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Browser, formAction } from '../support/browser.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, startSignIn } from '../support/relying-party.js';
import { startTestInstance, tempDir } from '../support/twofold.js';

const PASSWORD = 'restart-proof password';

describe('a restart keeps keys, sessions, tokens and sign-ins in progress', () => {
  it('survives a restart on the same DATA_DIR', async () => {
    const env = { DATA_DIR: tempDir() };
    let twofold = await startTestInstance(env);
    const port = new URL(twofold.url).port;
    await twofold.app.directory.createUser({ email: 'ada@x.test', password: PASSWORD });
    await twofold.app.directory.createClient({ clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });

    let rp = await discover(twofold.url, 'app');
    const jwksBefore = await (await fetch(`${twofold.url}/jwks`)).json();
    const browser = new Browser(twofold.url);
    const pending = await startSignIn(rp, { scope: 'openid offline_access', prompt: 'consent' });
    const tokens = await exchangeCode(rp, await signInAndAllow(browser, pending, 'ada@x.test', PASSWORD), pending);
    assert.ok(tokens.refresh_token);

    const inProgress = await startSignIn(rp);
    const halfway = new Browser(twofold.url);
    const loginPage = await halfway.visit(inProgress.url.href);
    assert.equal(loginPage.status, 200);

    await twofold.close();
    // Let this process's fetch pool see the old server's sockets close, as a browser would on reconnect.
    await new Promise((resolve) => setTimeout(resolve, 200));
    twofold = await startTestInstance({ ...env, PORT: port });
    try {
      rp = await discover(twofold.url, 'app');
      assert.deepEqual(await (await fetch(`${twofold.url}/jwks`)).json(), jwksBefore, 'the signing keys are the same');

      const silent = await startSignIn(rp, { prompt: 'none' });
      const silentCallback = (await browser.visit(silent.url.href)).url;
      assert.ok(new URL(silentCallback).searchParams.get('code'), `the SSO session survived: ${silentCallback}`);
      const again = await exchangeCode(rp, silentCallback, silent);
      assert.equal(again.claims()!.sub, tokens.claims()!.sub);

      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      assert.ok(refreshed.access_token, 'the refresh token still works');

      const finished = await halfway.submit(loginPage, formAction(loginPage.html, '/login'), { email: 'ada@x.test', password: PASSWORD });
      assert.ok(finished.url.startsWith(REDIRECT_URI), `the sign-in in progress completed: ${finished.url}`);
      await exchangeCode(rp, finished.url, inProgress);
    } finally {
      await twofold.close();
    }
  });
});
