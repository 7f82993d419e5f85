import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ACR } from '../../src/provider/acr.js';
import { Browser, csrfTokenOf, formAction } from '../support/browser.js';
import { REDIRECT_URI, exchangeCode, oidc, signInAndAllow, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, recoveryCodesOf, setupKeyOf, submitPasscode } from '../support/second-factor.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import type { TestSmtpServer } from '../support/smtp.js';
import type { TestInstance } from '../support/twofold.js';

describe('the second factor through the real app, with openid-client as the relying party', () => {
  let fixture: Fixture;
  let twofold: TestInstance;
  let smtp: TestSmtpServer;
  let rp: oidc.Configuration;
  const newUser: Fixture['newUser'] = (orgs) => fixture.newUser(orgs);
  const signIn = async (email: string, parameters: Record<string, string> = {}) => {
    const browser = new Browser(twofold.url);
    const pending = await startSignIn(rp, parameters);
    const page = await signInWithPassword(browser, pending, email, PASSWORD);
    return { browser, pending, page };
  };

  const auditOf = async (slug: string) => {
    const organization = await twofold.app.store.organizations.findBySlug(slug);
    return (await twofold.app.store.audit.list(organization!.id, { limit: 500, offset: 0 })).events;
  };

  before(async () => {
    fixture = await startFixture();
    ({ twofold, smtp, rp } = fixture);
  });
  after(() => fixture.close());

  it('sends a member of an enforcing organization through setup, recovery codes and on to the relying party', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const { browser, pending, page } = await signIn(email);
    assert.equal(page.status, 200);
    assert.match(page.html, /<h1>Set up two-factor authentication<\/h1>/);
    assert.match(page.html, /<img class="qr" src="data:image\/png;base64,[^"]+" alt="QR code to add /);
    assert.match(page.html, /<label for="token">Token<\/label>/);
    assert.match(page.html, /id="token"[^>]*autocomplete="one-time-code"/);
    assert.match(page.html, /id="token"[^>]*inputmode="numeric"/);
    assert.match(page.html, /<button class="primary" type="submit">Activate two-factor authentication<\/button>/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(setupKeyOf(page.html).length, 32, '160-bit key in base32');

    const reloaded = await browser.visit(page.url);
    assert.equal(setupKeyOf(reloaded.html), setupKeyOf(page.html), 'a reload keeps the pending key');

    const secret = setupKeyOf(page.html);
    const codesPage = await browser.submit(page, formAction(page.html, '/setup'), { token: await codeAt(secret) });
    assert.match(codesPage.html, /<h1>Recovery codes<\/h1>/);
    assert.equal(codesPage.headers.get('cache-control'), 'no-store');
    const codes = recoveryCodesOf(codesPage.html);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    assert.match(codesPage.html, /shown only this once/);
    const download = await browser.request(new URL(/href="([^"]+\.txt)"/.exec(codesPage.html)![1]!, codesPage.url).href);
    assert.equal(download.status, 200);
    assert.match(download.headers.get('content-disposition')!, /attachment; filename="recovery-codes.txt"/);
    assert.equal(download.headers.get('cache-control'), 'no-store');
    const text = await download.text();
    for (const code of codes) assert.ok(text.includes(code));

    const landed = await browser.submit(codesPage, formAction(codesPage.html, '/continue'), {});
    assert.ok(landed.url.startsWith(REDIRECT_URI), landed.url);
    const claims = (await exchangeCode(rp, landed.url, pending)).claims()!;
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, ACR.twoFactor);
    assert.ok((await auditOf('city')).some((event) => event.action === 'two_factor.enabled' && event.targetEmail === email && event.actorEmail === email));
    const mail = await smtp.waitFor(email, /Two-factor authentication is now on/);
    assert.ok(!codes.some((code) => mail.text.includes(code)), 'no recovery code in the e-mail');

    const again = await browser.visit(codesPage.url);
    assert.doesNotMatch(again.html, /<h1>Recovery codes<\/h1>/, 'the codes are not shown a second time');
  });

  it('challenges an enrolled user at every sign-in and accepts a passcode once', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { secret } = await completeSetup(first.browser, first.page);

    const { browser, pending, page } = await signIn(email);
    assert.match(page.html, /<label for="passcode">One-time passcode<\/label>/);
    assert.match(page.html, /id="passcode"[^>]*autocomplete="one-time-code"/);
    assert.match(page.html, />Use a recovery code</);
    const wrong = await submitPasscode(browser, page, '000000');
    assert.equal(wrong.status, 400);
    assert.match(wrong.html, /That code is not valid or has expired\./);
    assert.match(wrong.html, /aria-invalid="true"/);

    const code = await codeAt(secret, 1);
    const landed = await submitPasscode(browser, wrong, code);
    assert.ok(landed.url.startsWith(REDIRECT_URI), landed.html);
    assert.deepEqual((await exchangeCode(rp, landed.url, pending)).claims()!.amr, ['pwd', 'otp', 'mfa']);

    const replay = await signIn(email);
    const refused = await submitPasscode(replay.browser, replay.page, code);
    assert.equal(refused.status, 400);
    assert.match(refused.html, /That code was already used\./);
    assert.ok(twofold.logLines.some((line) => line.includes('a replayed passcode was refused')));
    const replayEvent = (await auditOf('city')).find((event) => event.action === 'passcode.replayed' && event.targetEmail === email);
    assert.ok(replayEvent?.ip, 'the replay is in the audit log, with the IP address');
  });

  it('asks for the passcode inside the sign-in, and only after the password of that same sign-in', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { secret } = await completeSetup(first.browser, first.page);

    const { page } = await signIn(email);
    assert.match(formAction(page.html, '/challenge'), /^\/interaction\/[^/]+\/login\/challenge$/, 'no extra round trip after the password');

    const intruder = new Browser(twofold.url);
    const login = await intruder.visit((await startSignIn(rp, { login_hint: email })).url.href);
    const skipped = await intruder.visit(`${new URL(login.url).pathname}/login/challenge`, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: csrfTokenOf(login.html), passcode: await codeAt(secret, 1) }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(skipped.status, 400, 'a passcode without this sign-in\'s password step is refused');
    assert.match(skipped.html, /Enter your email and password again/);
    assert.ok(!skipped.url.startsWith(REDIRECT_URI));
  });

  it('accepts a recovery code once, in any case and with spaces, and e-mails the user', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { codes } = await completeSetup(first.browser, first.page);

    const { browser, pending, page } = await signIn(email);
    const recovery = await browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(page.html)![1]!, page.url).href);
    assert.match(recovery.html, /<label for="code">Recovery code<\/label>/);
    assert.match(recovery.html, /<button class="primary" type="submit">Log in<\/button>/);
    const typed = ` ${codes[3]!.toUpperCase().replace('-', ' - ')} `;
    const landed = await browser.submit(recovery, formAction(recovery.html, '/recovery'), { code: typed });
    assert.ok(landed.url.startsWith(REDIRECT_URI), landed.html);
    assert.deepEqual((await exchangeCode(rp, landed.url, pending)).claims()!.amr, ['pwd', 'otp', 'mfa']);
    const mail = await smtp.waitFor(email, /A recovery code was used/);
    assert.match(mail.text, /You have 9 recovery codes left/);
    const used = (await auditOf('city')).find((event) => event.action === 'recovery_code.used' && event.targetEmail === email);
    assert.equal(used?.details.remaining, 9);
    assert.ok(!JSON.stringify(used).includes(codes[3]!), 'the code itself is not in the audit log');

    const again = await signIn(email);
    const recoveryAgain = await again.browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(again.page.html)![1]!, again.page.url).href);
    const refused = await again.browser.submit(recoveryAgain, formAction(recoveryAgain.html, '/recovery'), { code: codes[3]! });
    assert.equal(refused.status, 400);
    assert.match(refused.html, /That recovery code is not valid or was already used\./);
  });

  it('re-decides at every authorization: enforcement switched on applies over an existing session', async () => {
    await twofold.app.directory.createOrganization('parks', 'Parks');
    const email = await newUser([{ slug: 'parks', role: 'member' }]);
    const { browser, page } = await signIn(email);
    assert.ok(page.url.startsWith(REDIRECT_URI), 'no second factor while nothing requires it');

    await twofold.app.directory.setForceTwoFactor('parks', true);
    const silent = await startSignIn(rp, { prompt: 'none' });
    const silentResult = await browser.visit(silent.url.href);
    assert.equal(new URL(silentResult.url).searchParams.get('error'), 'interaction_required');
    assert.equal(new URL(silentResult.url).searchParams.get('code'), null);

    const interactive = await browser.visit((await startSignIn(rp)).url.href);
    assert.match(interactive.html, /<h1>Set up two-factor authentication<\/h1>/, 'the existing session must set up 2FA');
  });

  it('keeps organization enforcement when the site-wide mode is off', async () => {
    await twofold.app.store.settings.set('site.two_factor_mode', 'off');
    try {
      const enforced = await signIn(await newUser([{ slug: 'city', role: 'member' }]));
      assert.match(enforced.page.html, /Set up two-factor authentication/);
      const free = await signIn(await newUser([{ slug: 'county', role: 'member' }]));
      assert.ok(free.page.url.startsWith(REDIRECT_URI));
    } finally {
      await twofold.app.store.settings.set('site.two_factor_mode', 'optional');
    }
  });

  it('steps up when the relying party asks for two-factor sign-in (acr_values)', async () => {
    const email = await newUser([{ slug: 'county', role: 'member' }]);
    const { browser, page } = await signIn(email);
    assert.ok(page.url.startsWith(REDIRECT_URI));

    const silentStepUp = await browser.visit((await startSignIn(rp, { prompt: 'none', acr_values: ACR.twoFactor })).url.href);
    assert.equal(new URL(silentStepUp.url).searchParams.get('error'), 'interaction_required');

    const stepUp = await startSignIn(rp, { acr_values: ACR.papeMultiFactor });
    const setup = await browser.visit(stepUp.url.href);
    assert.match(setup.html, /Set up two-factor authentication/);
    const { landed } = await completeSetup(browser, setup);
    const claims = (await exchangeCode(rp, landed.url, stepUp)).claims()!;
    assert.equal(claims.acr, ACR.papeMultiFactor);
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);

    const essential = await startSignIn(rp, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.twoFactor] } } }) });
    const sso = await browser.visit(essential.url.href);
    assert.ok(sso.url.startsWith(REDIRECT_URI), 'the session already has the second factor');
  });

  it('refuses tokens at the token endpoint for a sign-in that skipped a second factor now required', async () => {
    await twofold.app.directory.createOrganization('water', 'Water');
    const email = await newUser([{ slug: 'water', role: 'member' }]);
    const pending = await startSignIn(rp, { scope: 'openid offline_access', prompt: 'consent' });
    const callback = await signInAndAllow(new Browser(twofold.url), pending, email, PASSWORD);
    const tokens = await exchangeCode(rp, callback, pending);
    assert.ok(tokens.refresh_token);

    const pendingCode = await startSignIn(rp);
    const codeUrl = await signInAndAllow(new Browser(twofold.url), pendingCode, email, PASSWORD);
    await twofold.app.directory.setForceTwoFactor('water', true);
    await assert.rejects(exchangeCode(rp, codeUrl, pendingCode), (error: { error?: string }) => error.error === 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(rp, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
  });

  it('keeps secrets and codes out of the database file and the log', async (t) => {
    if (twofold.app.store.kind !== 'sqlite') return t.skip('reads the SQLite file; the MongoDB store keeps the same sealed values');
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const { browser, page } = await signIn(email);
    const { secret, codes } = await completeSetup(browser, page);
    const db = Buffer.concat(['twofold.db', 'twofold.db-wal'].flatMap((name) => {
      const file = path.join(twofold.config.dataDir, name);
      return fs.existsSync(file) ? [fs.readFileSync(file)] : [];
    })).toString('latin1');
    assert.ok(!db.includes(secret), 'the TOTP secret is not stored in clear');
    for (const code of codes) {
      assert.ok(!db.includes(code) && !db.includes(code.replace('-', '').toUpperCase()), 'no recovery code in clear');
    }
    assert.ok(!db.includes(PASSWORD));
    for (const line of twofold.logLines) {
      assert.ok(!line.includes(secret) && !codes.some((code) => line.includes(code)) && !line.includes(PASSWORD), line);
    }
  });
});
