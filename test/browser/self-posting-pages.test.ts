import http from 'node:http';
import { OPERATOR } from '../../src/application/actor.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, missingForBrowserTests } from '../support/chromium.js';
import { PASSWORD } from '../support/fixture.js';
import { discover, oidc } from '../support/relying-party.js';
import { reportSkip } from '../support/skips.js';
import { freePort, startTestInstance, type TestInstance } from '../support/twofold.js';

/*
 * oidc-provider answers some steps with a page that submits itself by a script: the response to a
 * relying party that asked for response_mode=form_post, and the sign-out of one account when
 * someone signs in as another. In Chromium, with Twofold's Content-Security-Policy, those scripts
 * must run (by their hash) — the journeys end at the relying party, not on a blank page.
 */
const skip = missingForBrowserTests();
if (skip) reportSkip('Browser test of self-submitting pages', skip);

/** A relying party on its own port: it starts a sign-in, and receives the code by GET or by POST. */
async function startRelyingParty(issuer: string, clientId: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const rp = await discover(issuer, clientId);
  const pending = new Map<string, { verifier: string; nonce: string }>();
  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', `http://localhost:${port}`);
      if (url.pathname === '/start') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        pending.set(state, { verifier, nonce });
        const authorization = oidc.buildAuthorizationUrl(rp, {
          redirect_uri: `http://localhost:${port}/callback`,
          scope: 'openid email',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
          response_mode: 'form_post',
          ...(url.searchParams.get('prompt') ? { prompt: url.searchParams.get('prompt')! } : {}),
        });
        response.writeHead(302, { location: authorization.href }).end();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const state = form.get('state') ?? '';
      const started = pending.get(state);
      if (request.method !== 'POST' || !started) {
        response.writeHead(400, { 'content-type': 'text/html' }).end('<title>Relying party</title><p>No sign-in to finish.</p>');
        return;
      }
      pending.delete(state);
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(`http://localhost:${port}/callback?${form.toString()}`), {
        pkceCodeVerifier: started.verifier,
        expectedState: state,
        expectedNonce: started.nonce,
      });
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<title>Relying party</title><p>Signed in as ${String(tokens.claims()!.email)}</p>`);
    })().catch((error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(error.message));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

(skip ? describe.skip : describe)('self-submitting pages in a real browser (Chromium)', () => {
  let twofold: TestInstance;
  let relyingParty: Awaited<ReturnType<typeof startRelyingParty>>;
  let browser: Browser;
  const violations: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    twofold = await startTestInstance({ PORT: String(port), ISSUER: `http://localhost:${port}` });
    const rpPort = await freePort();
    await twofold.app.clients.create(OPERATOR, { clientId: 'post-app', redirectUris: [`http://localhost:${rpPort}/callback`], firstParty: true });
    for (const email of ['first@city.test', 'second@city.test']) await twofold.app.users.create(OPERATOR, { email, password: PASSWORD });
    relyingParty = await startRelyingParty(twofold.url, 'post-app', rpPort);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await relyingParty?.close();
    await twofold?.close();
  });

  const watch = (page: Page) => page.on('console', (message) => {
    if (/Content Security Policy|Content-Security-Policy/i.test(message.text())) violations.push(message.text());
  });
  const signIn = async (page: Page, email: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };

  it('returns a form_post sign-in to the relying party, and signs in as someone else over that session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page);
    await page.goto(`${relyingParty.url}/start`);
    await signIn(page, 'first@city.test');
    await page.getByText('Signed in as first@city.test').waitFor({ timeout: 10_000 });

    // The same browser, another account: oidc-provider signs the first one out on a self-submitting page.
    await page.goto(`${relyingParty.url}/start?prompt=login`);
    await signIn(page, 'second@city.test');
    await page.getByText('Signed in as second@city.test').waitFor({ timeout: 10_000 });
    expect(violations).toStrictEqual([]);
    await context.close();
  });
});
