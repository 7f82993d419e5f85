import { describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { LEASE_MS } from '../../src/mail/delivery.js';
import { bodyContext, type MailBody } from '../../src/mail/mailer.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, submitPasscode } from '../support/second-factor.js';
import { freePort, startTestInstance, tempDir, waitForLogLine } from '../support/twofold.js';

const PASSWORD = 'correct horse battery staple 42';
const WRONG_PASSWORD = 'tr0ub4dor-and-3';
const CLIENT_SECRET = 'portal-client-secret-9f8e7d6c5b4a3210';
const SMTP_PASSWORD = 'smtp-password-5d4c3b2a';
const METRICS_TOKEN = 'metrics-token-0a1b2c3d4e5f6a7b8c9d0e1f2a3b';

/** Past a consent page, when there is one. */
async function allow(browser: Browser, page: Page): Promise<Page> {
  return page.status === 200 && page.html.includes('/consent') ? browser.submit(page, formAction(page.html, '/consent'), {}) : page;
}

/**
 * Every logging path, fed a password, a passcode, a recovery code, a client secret and tokens: the
 * request log, the error pages, oidc-provider's server_error, the mailer, the application's own
 * events, and the command line's plain lines. The log is the operator's, and none of them may be in it.
 */
describe('the log never holds a secret', () => {
  it('whatever passes through each logging path', async () => {
    const smtpPort = await freePort();
    const twofold = await startTestInstance({
      SMTP_URL: `smtp://twofold:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}`,
      OUTBOX_RETRY_SECONDS: '1',
      OUTBOX_POLL_SECONDS: '1',
      METRICS_TOKEN,
      TRUST_PROXY: '1',
    });
    const secrets: string[] = [PASSWORD, WRONG_PASSWORD, CLIENT_SECRET, SMTP_PASSWORD, METRICS_TOKEN];
    /** Six digits can occur inside other numbers; a passcode counts as leaked when it stands alone. */
    const passcodes: string[] = [];
    let closed = false;
    try {
      await twofold.app.organizations.create(OPERATOR, 'city', 'City');
      await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
      await twofold.app.users.create(OPERATOR, { email: 'ada@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'owner' }] });
      await twofold.app.clients.create(OPERATOR, { clientId: 'portal', redirectUris: [REDIRECT_URI], secret: CLIENT_SECRET, firstParty: true });
      const rp = await discover(twofold.url, 'portal', CLIENT_SECRET);

      // A wrong password, then the setup of the second factor, then tokens at the token endpoint.
      await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), 'ada@city.test', WRONG_PASSWORD);
      const first = new Browser(twofold.url);
      const pending = await startSignIn(rp, { scope: 'openid email offline_access', prompt: 'consent' });
      const setupPage = await signInWithPassword(first, pending, 'ada@city.test', PASSWORD);
      // The code that confirms the first set-up, read from the outbox (the mail server is down): never to be logged either.
      // Claimed as a worker would, later than any lease the instance's own worker holds on it now.
      const codeAt0 = new Date(Date.now() + 10 * LEASE_MS);
      const [codeMail] = (await twofold.store.outbox.claim('test', codeAt0, new Date(codeAt0.getTime() + 1), 10)).filter((message) => /finish setting up/.test(message.subject));
      const emailCode = /Your code: (\d{6})/.exec((JSON.parse(twofold.composition.box.open(codeMail!.sealedBody, bodyContext(codeMail!.id))) as MailBody).text)![1]!;
      passcodes.push(emailCode);
      const { secret, codes, landed } = await completeSetup(first, setupPage, 0, emailCode);
      secrets.push(secret, ...codes);
      passcodes.push(await codeAt(secret));
      const callback = (await allow(first, landed)).url;
      expect(callback).toStartWith(REDIRECT_URI);
      secrets.push(new URL(callback).searchParams.get('code')!);
      const tokens = await exchangeCode(rp, callback, pending);
      secrets.push(tokens.access_token, tokens.refresh_token!, tokens.id_token!);
      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      secrets.push(refreshed.access_token);
      expect((await fetch(`${twofold.url}/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200);
      for (const cookie of first.cookies.values()) secrets.push(cookie.value);

      // A passcode, the same one replayed, and a recovery code.
      const code = await codeAt(secret, 1);
      passcodes.push(code);
      const second = new Browser(twofold.url);
      expect((await submitPasscode(second, await signInWithPassword(second, await startSignIn(rp), 'ada@city.test', PASSWORD), code)).url).toStartWith(REDIRECT_URI);
      const third = new Browser(twofold.url);
      const replayed = await submitPasscode(third, await signInWithPassword(third, await startSignIn(rp), 'ada@city.test', PASSWORD), code);
      expect(replayed.html).toContain('That code was already used.');
      const recovery = await third.visit(new URL(/href="([^"]+\/recovery)"/.exec(replayed.html)![1]!, replayed.url).href);
      const offer = await third.submit(recovery, formAction(recovery.html, '/recovery'), { code: codes[0]! });
      expect((await third.visit(new URL(/<a href="([^"]+)">Continue to the application<\/a>/.exec(offer.html)![1]!, offer.url).href)).url).toStartWith(REDIRECT_URI);

      // An invitation link: its token is in the e-mail (sealed in the outbox) and in the URL of the page it opens.
      await twofold.app.members.add(OPERATOR, 'city', { email: 'newhire@city.test', role: 'member' }, null);
      const later = new Date(Date.now() + LEASE_MS);
      const [invitation] = (await twofold.store.outbox.claim('test', later, new Date(later.getTime() + LEASE_MS), 10)).filter((message) => message.to === 'newhire@city.test');
      const body = JSON.parse(twofold.composition.box.open(invitation!.sealedBody, bodyContext(invitation!.id))) as MailBody;
      const token = /\/invitation\/([\w-]+)/.exec(body.text)![1]!;
      secrets.push(token);
      expect((await fetch(`${twofold.url}/invitation/${token}`)).status).toBe(200);

      // A forgotten password: the reset link's token, and the new password typed on the page it opens.
      const NEW_PASSWORD = 'a new password nobody logs';
      secrets.push(NEW_PASSWORD);
      await twofold.app.selfService.requestPasswordReset('newhire@city.test', '127.0.0.1');
      const resetAt = new Date(Date.now() + 3 * LEASE_MS);
      const [reset] = (await twofold.store.outbox.claim('test', resetAt, new Date(resetAt.getTime() + LEASE_MS), 10)).filter((message) => message.subject === 'Set a new password');
      const resetToken = /\/password\/reset\/([\w-]+)/.exec((JSON.parse(twofold.composition.box.open(reset!.sealedBody, bodyContext(reset!.id))) as MailBody).text)![1]!;
      secrets.push(resetToken);
      const resetter = new Browser(twofold.url);
      const resetPage = await resetter.visit(`${twofold.url}/password/reset/${resetToken}`);
      expect((await resetter.submit(resetPage, formAction(resetPage.html, `/password/reset/${resetToken}`), { password: NEW_PASSWORD, confirm: NEW_PASSWORD })).html).toContain('Sign in to your account page');

      // The metrics, scraped from elsewhere with the token.
      expect((await fetch(`${twofold.url}/metrics`, { headers: { 'X-Forwarded-For': '203.0.113.9', Authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);

      // Failures: the store goes away under a sign-in and under the token endpoint.
      const fourth = new Browser(twofold.url);
      const fourthPending = await startSignIn(rp);
      const loginPage = await fourth.visit(fourthPending.url.href);
      await waitForLogLine(twofold, (line) => line.includes('e-mail could not be sent; will retry'));
      await twofold.store.close();
      closed = true;
      expect((await fourth.submit(loginPage, formAction(loginPage.html, '/login'), { email: 'ada@city.test', password: PASSWORD })).status).toBe(500);
      const tokenEndpoint = await fetch(`${twofold.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from(`portal:${CLIENT_SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token ?? tokens.refresh_token! }),
      });
      expect(tokenEndpoint.status).toBe(500);

      const log = twofold.logLines.join('\n');
      const events = twofold.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
      // Each path did write: otherwise finding nothing would prove nothing.
      for (const message of ['request', 'request failed', 'oidc-provider server_error', 'e-mail queued', 'e-mail could not be sent; will retry', 'a replayed passcode was refused', 'a recovery code was used']) {
        expect([message, events.some((event) => event.message === message)]).toStrictEqual([message, true]);
      }
      expect(events.find((event) => event.message === 'request' && String(event.path).startsWith('/invitation/'))?.path).toMatch(/^\/invitation\/\[redacted:[0-9a-f]{10}\]$/);
      expect(events.find((event) => event.message === 'request' && String(event.path).startsWith('/password/reset/'))?.path).toMatch(/^\/password\/reset\/\[redacted:[0-9a-f]{10}\]$/);
      for (const value of secrets) expect([value, log.includes(value)]).toStrictEqual([value, false]);
      for (const value of passcodes) expect([value, new RegExp(`\\b${value}\\b`).test(log)]).toStrictEqual([value, false]);
    } finally {
      if (!closed) await twofold.store.close();
      await twofold.close();
    }

    // The command line's plain lines, with a mail server that is down.
    const dataDir = tempDir();
    const env = { SMTP_URL: `smtp://twofold:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}` };
    const CLI_PASSWORD = 'cli password that is long';
    const FEDERATION_SECRET = 'upstream-secret-1234567890';
    const runs = [
      await cli(dataDir, ['org', 'create', 'county', '--name', 'County'], { env }),
      await cli(dataDir, ['user', 'create', 'root@county.test', '--password', CLI_PASSWORD, '--site-admin', '--org', 'county'], { env }),
      // E-mails the member, through the mail server that is down.
      await cli(dataDir, ['org', 'set', 'county', '--force-2fa', 'on'], { env }),
      await cli(dataDir, ['user', 'create', 'not-an-email', '--password', CLI_PASSWORD], { env }),
      await cli(dataDir, ['user', 'create', '--password', CLI_PASSWORD], { env }),
      await cli(dataDir, ['client', 'create', 'portal', '--redirect-uri', REDIRECT_URI, '--secret', CLIENT_SECRET], { env }),
      await cli(dataDir, ['org', 'federate', 'county', '--issuer', 'https://idp.county.test', '--client-id', 'twofold', '--client-secret', FEDERATION_SECRET], { env }),
    ];
    const printed = runs.flatMap((run) => [...run.out, ...run.err]).join('\n');
    expect(printed).toMatch(/^twofold: WARN e-mail could not be sent; will retry /m);
    expect(printed).toMatch(/^twofold: /m);
    for (const value of [CLI_PASSWORD, CLIENT_SECRET, FEDERATION_SECRET, SMTP_PASSWORD]) expect([value, printed.includes(value)]).toStrictEqual([value, false]);
  });
});
