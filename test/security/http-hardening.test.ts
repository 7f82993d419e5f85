import crypto from 'node:crypto';
import { OPERATOR } from '../../src/application/actor.js';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adminBrowser, apiTokenFrom, callApi } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { startTestInstance, type TestInstance } from '../support/twofold.js';

/** The one inline script of a self-submitting page, and whether the page's CSP allows exactly it by hash. */
function inlineScriptAllowed(page: Page): boolean {
  const script = /<script>([\s\S]*?)<\/script>/.exec(page.html)?.[1];
  if (script === undefined) return false;
  const hash = `'sha256-${crypto.createHash('sha256').update(script).digest('base64')}'`;
  const scriptSrc = /script-src ([^;]*)/.exec(page.headers.get('content-security-policy') ?? '')?.[1]?.split(' ') ?? [];
  return scriptSrc.includes(hash) && !scriptSrc.includes("'unsafe-inline'");
}

/** Posts a self-submitting page's form as a browser without scripts does with its Continue button. */
function submitSelfPostingForm(browser: Browser, page: Page): Promise<Page> {
  const action = /<form method="post" action="([^"]+)"/.exec(page.html)![1]!.replaceAll('&amp;', '&');
  const fields = Object.fromEntries([...page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((match) => [match[1]!, match[2]!]));
  return browser.visit(new URL(action, page.url).href, { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

/**
 * A raw HTTP/1.1 request on its own socket, so that a body can be sent chunked and the answer read
 * however the server ends the connection.
 */
function rawRequest(port: number, head: string, chunks: Buffer[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('utf8');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
      if (Number.isNaN(status)) reject(new Error(`no HTTP answer: ${received.slice(0, 200)}`));
      else resolve({ status, text: received });
    });
    socket.write(head);
    for (const chunk of chunks) {
      if (socket.destroyed) break;
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      socket.write('\r\n');
    }
    if (!socket.destroyed) socket.end('0\r\n\r\n');
  });
}

describe('HTTP hardening: account switching, form_post, proxies, oversized and out-of-range input', () => {
  let fixture: Fixture;
  const url = () => fixture.twofold.url;
  const port = () => Number(new URL(url()).port);

  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(() => fixture?.close());

  it('signs in as someone else over an existing session (the switch ends the old session, the sign-in goes on)', async () => {
    const first = await fixture.newUser([{ slug: 'county', role: 'member' }]);
    const second = await fixture.newUser([{ slug: 'county', role: 'member' }]);
    const browser = new Browser(url());
    const firstPending = await startSignIn(fixture.rp);
    const landed = await signInWithPassword(browser, firstPending, first, PASSWORD);
    expect((await exchangeCode(fixture.rp, landed.url, firstPending)).claims()!.email).toBe(first);

    const pending = await startSignIn(fixture.rp, { prompt: 'login' });
    const switching = await signInWithPassword(browser, pending, second, PASSWORD);
    // oidc-provider ends the first account's session with a self-submitting form; its script runs under our CSP.
    expect(switching.html).toMatch(/<form method="post" action="[^"]*\/session\/end\/confirm"/);
    expect(inlineScriptAllowed(switching)).toBe(true);
    const back = await submitSelfPostingForm(browser, switching);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await exchangeCode(fixture.rp, back.url, pending)).claims()!.email).toBe(second);
  });

  it('answers response_mode=form_post with a self-submitting page whose script the CSP allows by its hash', async () => {
    const email = await fixture.newUser();
    const browser = new Browser(url());
    const pending = await startSignIn(fixture.rp, { response_mode: 'form_post' });
    const page = await signInWithPassword(browser, pending, email, PASSWORD);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(new RegExp(`<form method="post" action="${REDIRECT_URI}">`));
    expect(page.html).toMatch(/name="code"/);
    expect(inlineScriptAllowed(page)).toBe(true);
    // Every other page still allows no inline script at all.
    const signIn = await new Browser(url()).visit((await startSignIn(fixture.rp)).url.href);
    expect(signIn.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
  });

  it('believes only as many X-Forwarded-For entries as TRUST_PROXY says there are proxies', async () => {
    const behindOne = await startTestInstance({ TRUST_PROXY: '1', PASSWORD_ATTEMPTS_PER_IP: '3' });
    try {
      await behindOne.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
      const rp = await (await import('../support/relying-party.js')).discover(behindOne.url, 'app');
      const attempt = async (forwardedFor: string, n: number) => {
        const browser = new Browser(behindOne.url);
        const login = await browser.visit((await startSignIn(rp)).url.href);
        return browser.visit(new URL(formAction(login.html, '/login'), login.url).href, {
          method: 'POST',
          body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(login.html)![1]!, email: `nobody${n}@city.test`, password: 'wrong password' }),
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
        });
      };
      // A client that rotates the address it writes itself: the proxy's entry (the right-most) still counts.
      const statuses: number[] = [];
      for (let n = 0; n < 4; n += 1) statuses.push((await attempt(`10.0.0.${n}, 203.0.113.7`, n)).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      // Another address, as the proxy saw it, is not paused.
      expect((await attempt('10.0.0.9, 203.0.113.8', 9)).status).toBe(401);
    } finally {
      await behindOne.close();
    }
  });

  it('answers a page number out of range with 400, not a database error', async () => {
    await fixture.twofold.app.users.create(OPERATOR, { email: 'pager@city.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
    const { browser } = await adminBrowser(url(), 'pager@city.test', PASSWORD);
    const token = await apiTokenFrom(browser);
    for (const page of ['1e300', '0', '-1', 'abc', '9999999', '1.5']) {
      const viaPage = await browser.visit(`/admin/orgs/county/audit?page=${page}`);
      expect(viaPage.status).toBe(400);
      expect(viaPage.html).toMatch(/The page number must be a whole number from 1 to 100000\./);
      const viaApi = await callApi(url(), token, 'GET', `/admin/api/organizations/county/audit?page=${page}`);
      expect(viaApi.status).toBe(400);
      expect(viaApi.json.error).toBe('invalid_request');
    }
    expect((await browser.visit('/admin/orgs/county/audit?page=100000')).status).toBe(200);
  });

  it('answers a federation callback for a malformed organization slug with 404', async () => {
    for (const slug of ['%C3%A9', 'a%00b', 'UPPER', 'a%2Fb']) {
      const page = await new Browser(url()).visit(`/federation/${slug}/callback?code=x&state=y`);
      expect(page.status).toBe(404);
      expect(page.html).toMatch(/There is no such organization sign-in\./);
    }
  });

  it('answers every body over 64 KiB with 413 — declared or chunked, form or JSON — and writes the answer before closing', async () => {
    const big = Buffer.alloc(16 * 1024, 'a');
    const chunked = await rawRequest(port(), `POST /invitation/some-token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`, Array(12).fill(big));
    expect(chunked.status).toBe(413);
    expect(chunked.text).toMatch(/What was sent is too large \(at most 64 KiB\)\./);

    const declared = await fetch(new URL('/invitation/some-token', url()), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a'.repeat(200_000) });
    expect(declared.status).toBe(413);

    await fixture.twofold.app.users.create(OPERATOR, { email: 'json-owner@city.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
    const token = await apiTokenFrom((await adminBrowser(url(), 'json-owner@city.test', PASSWORD)).browser);
    const json = await callApi(url(), token, 'PUT', '/admin/api/organizations/county/policy', `{"forceTwoFactor":true,"padding":"${'x'.repeat(1_000_000)}"}`);
    expect(json.status).toBe(413);
    expect(json.json.error).toBe('request_too_large');
    expect((await fixture.twofold.store.organizations.findBySlug('county'))!.forceTwoFactor).toBe(false);

    const tokenEndpoint = await fetch(new URL('/token', url()), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=authorization_code&code=${'a'.repeat(100_000)}` });
    expect(tokenEndpoint.status).toBe(413);
  });
});
