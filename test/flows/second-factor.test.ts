import fs from 'node:fs';
import { OPERATOR } from '../../src/application/actor.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ACR } from '../../src/policy/acr.js';
import { Browser, csrfTokenOf, formAction } from '../support/browser.js';
import { REDIRECT_URI, exchangeCode, oidc, signInAndAllow, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, emailCodeFor, recoveryCodesOf, setupKeyOf, submitPasscode } from '../support/second-factor.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { reportSkip } from '../support/skips.js';
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
    const organization = await twofold.store.organizations.findBySlug(slug);
    return (await twofold.store.audit.list(organization!.id, { limit: 500, offset: 0 })).events;
  };

  beforeAll(async () => {
    fixture = await startFixture();
    ({ twofold, smtp, rp } = fixture);
  });
  afterAll(() => fixture.close());

  it('sends a member of an enforcing organization through setup, recovery codes and on to the relying party', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const { browser, pending, page } = await signIn(email);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<h1>Set up two-factor authentication<\/h1>/);
    expect(page.html).toMatch(/<img class="qr" src="data:image\/png;base64,[^"]+" alt="QR code to add /);
    expect(page.html).toMatch(/<label for="token">Token<\/label>/);
    expect(page.html).toMatch(/id="token"[^>]*autocomplete="one-time-code"/);
    expect(page.html).toMatch(/id="token"[^>]*inputmode="numeric"/);
    expect(page.html).toMatch(/<button class="primary" type="submit">Activate two-factor authentication<\/button>/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    // 160-bit key in base32.
    expect(setupKeyOf(page.html)).toHaveLength(32);

    const reloaded = await browser.visit(page.url);
    // A reload keeps the pending key.
    expect(setupKeyOf(reloaded.html)).toBe(setupKeyOf(page.html));

    const secret = setupKeyOf(page.html);
    const codesPage = await browser.submit(page, formAction(page.html, '/setup'), { token: await codeAt(secret), ...(await emailCodeFor(page)) });
    expect(codesPage.html).toMatch(/<h1>Recovery codes<\/h1>/);
    expect(codesPage.headers.get('cache-control')).toBe('no-store');
    const codes = recoveryCodesOf(codesPage.html);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(codesPage.html).toMatch(/shown only this once/);
    const download = await browser.request(new URL(/href="([^"]+\.txt)"/.exec(codesPage.html)![1]!, codesPage.url).href);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')!).toMatch(/attachment; filename="recovery-codes.txt"/);
    expect(download.headers.get('cache-control')).toBe('no-store');
    const text = await download.text();
    for (const code of codes) expect(text).toContain(code);

    const landed = await browser.submit(codesPage, formAction(codesPage.html, '/continue'), {});
    expect(landed.url).toStartWith(REDIRECT_URI);
    const claims = (await exchangeCode(rp, landed.url, pending)).claims()!;
    expect(claims.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe(ACR.twoFactor);
    expect(await auditOf('city')).toContainEqual(expect.objectContaining({ action: 'two_factor.enabled', targetEmail: email, actorEmail: email }));
    const mail = await smtp.waitFor(email, /Two-factor authentication is now on/);
    // No recovery code in the e-mail.
    for (const code of codes) expect(mail.text).not.toContain(code);

    const again = await browser.visit(codesPage.url);
    // The codes are not shown a second time.
    expect(again.html).not.toMatch(/<h1>Recovery codes<\/h1>/);
  });

  it('challenges an enrolled user at every sign-in and accepts a passcode once', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { secret } = await completeSetup(first.browser, first.page);

    const { browser, pending, page } = await signIn(email);
    expect(page.html).toMatch(/<label for="passcode">One-time passcode<\/label>/);
    expect(page.html).toMatch(/id="passcode"[^>]*autocomplete="one-time-code"/);
    expect(page.html).toMatch(/>Use a recovery code</);
    const wrong = await submitPasscode(browser, page, '000000');
    expect(wrong.status).toBe(400);
    expect(wrong.html).toMatch(/That code is not valid or has expired\./);
    expect(wrong.html).toMatch(/aria-invalid="true"/);

    const code = await codeAt(secret, 1);
    const landed = await submitPasscode(browser, wrong, code);
    expect(landed.url).toStartWith(REDIRECT_URI);
    expect((await exchangeCode(rp, landed.url, pending)).claims()!.amr).toStrictEqual(['pwd', 'otp', 'mfa']);

    const replay = await signIn(email);
    const refused = await submitPasscode(replay.browser, replay.page, code);
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/That code was already used\./);
    expect(twofold.logLines).toContainEqual(expect.stringContaining('a replayed passcode was refused'));
    const replayEvent = (await auditOf('city')).find((event) => event.action === 'passcode.replayed' && event.targetEmail === email);
    // The replay is in the audit log, with the IP address.
    expect(replayEvent?.ip).toBeTruthy();
  });

  it('asks for the passcode inside the sign-in, and only after the password of that same sign-in', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { secret } = await completeSetup(first.browser, first.page);

    const { page } = await signIn(email);
    // No extra round trip after the password.
    expect(formAction(page.html, '/challenge')).toMatch(/^\/interaction\/[^/]+\/login\/challenge$/);

    const intruder = new Browser(twofold.url);
    const login = await intruder.visit((await startSignIn(rp, { login_hint: email })).url.href);
    const skipped = await intruder.visit(`${new URL(login.url).pathname}/login/challenge`, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: csrfTokenOf(login.html), passcode: await codeAt(secret, 1) }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    // A passcode without this sign-in's password step is refused.
    expect(skipped.status).toBe(400);
    expect(skipped.html).toMatch(/Enter your email and password again/);
    expect(skipped.url).not.toStartWith(REDIRECT_URI);
  });

  it('accepts a recovery code once, in any case and with spaces, and e-mails the user', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const first = await signIn(email);
    const { codes } = await completeSetup(first.browser, first.page);

    const { browser, pending, page } = await signIn(email);
    const recovery = await browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(page.html)![1]!, page.url).href);
    expect(recovery.html).toMatch(/<label for="code">Recovery code<\/label>/);
    expect(recovery.html).toMatch(/<button class="primary" type="submit">Log in<\/button>/);
    const typed = ` ${codes[3]!.toUpperCase().replace('-', ' - ')} `;
    const offer = await browser.submit(recovery, formAction(recovery.html, '/recovery'), { code: typed });
    // The phone may be gone: before going on, the sign-in offers the account page, with the codes left.
    expect(offer.html).toMatch(/You signed in with a recovery code\./);
    expect(offer.html).toMatch(/You have <strong>9 recovery codes<\/strong> left/);
    const landed = await browser.visit(new URL(/<a href="([^"]+)">Continue to the application<\/a>/.exec(offer.html)![1]!, offer.url).href);
    expect(landed.url).toStartWith(REDIRECT_URI);
    expect((await exchangeCode(rp, landed.url, pending)).claims()!.amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    const mail = await smtp.waitFor(email, /A recovery code was used/);
    expect(mail.text).toMatch(/You have 9 recovery codes left/);
    const used = (await auditOf('city')).find((event) => event.action === 'recovery_code.used' && event.targetEmail === email);
    expect(used?.details.remaining).toBe(9);
    // The code itself is not in the audit log.
    expect(JSON.stringify(used)).not.toContain(codes[3]!);

    const again = await signIn(email);
    const recoveryAgain = await again.browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(again.page.html)![1]!, again.page.url).href);
    const refused = await again.browser.submit(recoveryAgain, formAction(recoveryAgain.html, '/recovery'), { code: codes[3]! });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/That recovery code is not one of yours, or it was already used\./);
  });

  it('re-decides at every authorization: enforcement switched on applies over an existing session', async () => {
    await twofold.app.organizations.create(OPERATOR, 'parks', 'Parks');
    const email = await newUser([{ slug: 'parks', role: 'member' }]);
    const { browser, page } = await signIn(email);
    // No second factor while nothing requires it.
    expect(page.url).toStartWith(REDIRECT_URI);

    await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'parks', true, null);
    const silent = await startSignIn(rp, { prompt: 'none' });
    const silentResult = await browser.visit(silent.url.href);
    expect(new URL(silentResult.url).searchParams.get('error')).toBe('interaction_required');
    expect(new URL(silentResult.url).searchParams.get('code')).toBeNull();

    const interactive = await browser.visit((await startSignIn(rp)).url.href);
    // The existing session must set up 2FA.
    expect(interactive.html).toMatch(/<h1>Set up two-factor authentication<\/h1>/);
  });

  it('keeps organization enforcement when the site-wide mode is off', async () => {
    await twofold.store.settings.set('site.two_factor_mode', 'off');
    try {
      const enforced = await signIn(await newUser([{ slug: 'city', role: 'member' }]));
      expect(enforced.page.html).toMatch(/Set up two-factor authentication/);
      const free = await signIn(await newUser([{ slug: 'county', role: 'member' }]));
      expect(free.page.url).toStartWith(REDIRECT_URI);
    } finally {
      await twofold.store.settings.set('site.two_factor_mode', 'optional');
    }
  });

  it('steps up when the relying party asks for two-factor sign-in (acr_values)', async () => {
    const email = await newUser([{ slug: 'county', role: 'member' }]);
    const { browser, page } = await signIn(email);
    expect(page.url).toStartWith(REDIRECT_URI);

    const silentStepUp = await browser.visit((await startSignIn(rp, { prompt: 'none', acr_values: ACR.twoFactor })).url.href);
    expect(new URL(silentStepUp.url).searchParams.get('error')).toBe('interaction_required');

    const stepUp = await startSignIn(rp, { acr_values: ACR.papeMultiFactor });
    const setup = await browser.visit(stepUp.url.href);
    expect(setup.html).toMatch(/Set up two-factor authentication/);
    const { landed } = await completeSetup(browser, setup);
    const claims = (await exchangeCode(rp, landed.url, stepUp)).claims()!;
    expect(claims.acr).toBe(ACR.papeMultiFactor);
    expect(claims.amr).toStrictEqual(['pwd', 'otp', 'mfa']);

    const essential = await startSignIn(rp, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: [ACR.twoFactor] } } }) });
    const sso = await browser.visit(essential.url.href);
    // The session already has the second factor.
    expect(sso.url).toStartWith(REDIRECT_URI);
  });

  it('refuses tokens at the token endpoint for a sign-in that skipped a second factor now required', async () => {
    await twofold.app.organizations.create(OPERATOR, 'water', 'Water');
    const email = await newUser([{ slug: 'water', role: 'member' }]);
    const pending = await startSignIn(rp, { scope: 'openid offline_access', prompt: 'consent' });
    const callback = await signInAndAllow(new Browser(twofold.url), pending, email, PASSWORD);
    const tokens = await exchangeCode(rp, callback, pending);
    expect(tokens.refresh_token).toBeTruthy();

    const pendingCode = await startSignIn(rp);
    const codeUrl = await signInAndAllow(new Browser(twofold.url), pendingCode, email, PASSWORD);
    await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'water', true, null);
    await expect(exchangeCode(rp, codeUrl, pendingCode)).rejects.toHaveProperty('error', 'invalid_grant');
    await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toHaveProperty('error', 'invalid_grant');
  });

  // With MONGODB_URI set, every instance runs on MongoDB (test/support/twofold.ts): there is no file to read.
  const onMongo = Boolean(process.env.MONGODB_URI);
  if (onMongo) reportSkip('Test "keeps secrets and codes out of the database file"', 'it reads the SQLite file; the MongoDB store keeps the same sealed values');
  (onMongo ? it.skip : it)('keeps secrets and codes out of the database file and the log', async () => {
    const email = await newUser([{ slug: 'city', role: 'member' }]);
    const { browser, page } = await signIn(email);
    const { secret, codes } = await completeSetup(browser, page);
    const db = Buffer.concat(['twofold.db', 'twofold.db-wal'].flatMap((name) => {
      const file = path.join(twofold.config.dataDir, name);
      return fs.existsSync(file) ? [fs.readFileSync(file)] : [];
    })).toString('latin1');
    // Neither the TOTP secret nor a recovery code nor the password is stored in clear. The list, not the
    // binary file, is what a failure prints.
    const inClear = [secret, PASSWORD, ...codes.flatMap((code) => [code, code.replace('-', '').toUpperCase()])].filter((value) => db.includes(value));
    expect(inClear).toStrictEqual([]);
    for (const line of twofold.logLines) {
      expect(line).not.toContain(secret);
      for (const code of codes) expect(line).not.toContain(code);
      expect(line).not.toContain(PASSWORD);
    }
  });
});
