import { OPERATOR } from '../../src/application/actor.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { DEMO } from '../../src/demo/seed.js';
import { expectAccessible } from '../support/accessibility.js';
import { PHONE_TOOLS, authenticatorCode, scanQrCode as scanQr } from '../support/authenticator.js';
import { launchChromium, missingForBrowserTests } from '../support/chromium.js';
import { reportSkip } from '../support/skips.js';
import { typeEmailedCode } from '../support/browser-suite.js';
import { TestSmtpServer } from '../support/smtp.js';
import { startTestInstance, tempDir, type TestInstance } from '../support/twofold.js';

/** The seeds' journeys in Debian's Chromium, with a phone simulated outside Twofold's code (test/support/authenticator.ts). */
const skip = missingForBrowserTests(PHONE_TOOLS);
if (skip) reportSkip('Browser journeys', skip);

const SHOTS = process.env.TWOFOLD_SCREENSHOTS ?? tempDir('twofold-shots-');
const scanQrCode = (page: Page) => scanQr(page, SHOTS).then((uri) => uri.href);

(skip ? describe.skip : describe)('journeys in a real browser (Chromium)', () => {
  let twofold: TestInstance;
  let smtp: TestSmtpServer;
  let browser: Browser;

  beforeAll(async () => {
    smtp = new TestSmtpServer();
    twofold = await startTestInstance({ TWOFOLD_DEMO: '1', SMTP_URL: await smtp.start() });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await twofold?.close();
    await smtp?.close();
  });

  const signInFromDemo = async (page: Page, email: string, password: string) => {
    await page.goto(`${twofold.url}/demo`);
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  const signOutOfDemo = async (page: Page) => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await expectAccessible(page, 'sign out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  };

  it('seed 000: the owner forces 2FA; a member scans the QR code, keeps the codes, and signs in with passcodes from then on', async () => {
    const ownerContext = await browser.newContext();
    const owner = await ownerContext.newPage();
    await owner.goto(`${twofold.url}/admin`);
    await expectAccessible(owner, 'sign-in');
    await owner.getByLabel('Email').fill(DEMO.owner.email);
    await owner.getByLabel('Password').fill(DEMO.owner.password);
    await owner.getByRole('button', { name: 'Sign in', exact: true }).click();
    await owner.getByRole('link', { name: DEMO.organization.name }).waitFor();
    await expectAccessible(owner, 'admin: organizations');
    await owner.getByRole('link', { name: DEMO.organization.name }).click();
    await owner.getByRole('heading', { name: 'Security' }).waitFor();
    await expectAccessible(owner, 'admin: settings');
    await owner.getByLabel('Force Two-Factor Authentication').check();
    await owner.screenshot({ path: path.join(SHOTS, '0-owner-settings.png'), fullPage: true });
    await owner.getByRole('button', { name: 'Save', exact: true }).click();
    // The rule now covers the owner too: she sets up her own second factor, then is back where she was.
    await owner.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await expectAccessible(owner, 'setup');
    const ownerSecret = new URL(await scanQrCode(owner)).searchParams.get('secret')!;
    await typeEmailedCode(owner);
    await owner.getByLabel('Token').fill(authenticatorCode(ownerSecret));
    await owner.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await owner.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await expectAccessible(owner, 'recovery codes');
    await owner.getByRole('button', { name: 'Continue' }).click();
    await owner.getByText('Saved.').waitFor();
    await expectAccessible(owner, 'admin: settings, saved');
    expect(await owner.getByLabel('Force Two-Factor Authentication').isChecked()).toBe(true);
    await smtp.waitFor(DEMO.member.email, /Your organization now requires two-factor authentication/);

    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();

    await page.goto(`${twofold.url}/demo`);
    await expectAccessible(page, 'demo application');
    await signInFromDemo(page, DEMO.member.email, DEMO.member.password);
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, '1-setup.png'), fullPage: true });
    const uri = new URL(await scanQrCode(page));
    expect(uri.protocol).toBe('otpauth:');
    expect(decodeURIComponent(uri.pathname)).toBe(`/Twofold:${DEMO.member.email}`);
    const secret = uri.searchParams.get('secret')!;
    // The key shown as text is the one in the QR code.
    expect((await page.getByLabel('Setup key').textContent())!.replace(/\s/g, '')).toBe(secret);

    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, '2-recovery-codes.png'), fullPage: true });
    const codes = (await page.locator('#recovery-codes code').allTextContents()).map((code) => code.trim());
    expect(codes).toHaveLength(10);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('recovery-codes.txt');
    const saved = fs.readFileSync((await download.path())!, 'utf8');
    for (const code of codes) expect(saved).toContain(code);
    // The Copy button appears where scripts run.
    expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(`You are signed in as ${DEMO.member.email}`).waitFor();
    await expectAccessible(page, 'demo application, signed in');
    expect(await page.locator('.summary').textContent()).toMatch(/pwd, otp, mfa/);
    await page.screenshot({ path: path.join(SHOTS, '3-signed-in.png'), fullPage: true });
    await smtp.waitFor(DEMO.member.email, /Two-factor authentication is now on/);

    await signOutOfDemo(page);
    await signInFromDemo(page, DEMO.member.email, DEMO.member.password);
    await page.getByLabel('One-time passcode').fill('000000');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('That code is not valid or has expired.').waitFor();
    await expectAccessible(page, 'challenge, wrong code');
    await page.screenshot({ path: path.join(SHOTS, '4-wrong-code.png'), fullPage: true });
    await page.getByLabel('One-time passcode').fill(authenticatorCode(secret, 30));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText(`You are signed in as ${DEMO.member.email}`).waitFor();

    await signOutOfDemo(page);
    await signInFromDemo(page, DEMO.member.email, DEMO.member.password);
    await expectAccessible(page, 'challenge');
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').waitFor();
    await expectAccessible(page, 'recovery code');
    await page.getByLabel('Recovery code').fill(codes[0]!.toUpperCase());
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Keep a way to sign in' }).waitFor();
    await expectAccessible(page, 'offer after a recovery code');
    await page.getByRole('link', { name: 'Continue to the application' }).click();
    await page.getByText(`You are signed in as ${DEMO.member.email}`).waitFor();
    await smtp.waitFor(DEMO.member.email, /A recovery code was used/);

    // Seed 003, troubleshooting: the member lost the phone; the owner disables 2FA for them.
    await owner.getByRole('link', { name: 'Members' }).click();
    await owner.getByRole('heading', { name: 'Members' }).waitFor();
    await expectAccessible(owner, 'admin: members');
    const memberRow = owner.getByRole('row', { name: new RegExp(DEMO.member.email) });
    expect(await memberRow.textContent()).toMatch(/Enrolled/);
    await owner.getByRole('link', { name: `Disable 2FA for ${DEMO.member.email}` }).click();
    await expectAccessible(owner, 'admin: confirm Disable 2FA');
    await owner.getByLabel(/Reason/).fill('Lost phone');
    await owner.getByRole('button', { name: 'Disable 2FA' }).click();
    await owner.getByText('Two-factor authentication was disabled.').waitFor();
    await owner.screenshot({ path: path.join(SHOTS, '6-owner-members.png'), fullPage: true });
    expect(await owner.getByRole('row', { name: new RegExp(DEMO.member.email) }).textContent()).toMatch(/Not yet/);
    const mail = await smtp.waitFor(DEMO.member.email, /Two-factor authentication was turned off/);
    expect(mail.text).toMatch(new RegExp(`${DEMO.owner.name} \\(${DEMO.owner.email}\\) turned off`));

    await page.goto(`${twofold.url}/demo/login`);
    await page.getByLabel('Email').fill(DEMO.member.email);
    await page.getByLabel('Password').fill(DEMO.member.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const newSecret = new URL(await scanQrCode(page)).searchParams.get('secret')!;
    // A new QR code.
    expect(newSecret).not.toBe(secret);
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret, 60));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByText('That code is not valid or has expired.').waitFor();
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(newSecret));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(`You are signed in as ${DEMO.member.email}`).waitFor();
    await context.close();
    await ownerContext.close();
  });

  it('seed 003: with 2FA optional, a user activates it from the account page', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'optional@demo.test', password: 'optional-user-password' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${twofold.url}/account`);
    await page.getByLabel('Email').fill('optional@demo.test');
    await page.getByLabel('Password').fill('optional-user-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await expectAccessible(page, 'account');
    await page.locator('#activate').getByLabel('Current password').fill('optional-user-password');
    await page.getByRole('button', { name: 'Activate 2FA' }).click();

    const secret = new URL(await scanQrCode(page)).searchParams.get('secret')!;
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Two-factor authentication is enabled.').waitFor();
    await expectAccessible(page, 'account, 2FA on');
    await page.screenshot({ path: path.join(SHOTS, '5-account-enabled.png'), fullPage: true });
    expect(await page.locator('main').textContent()).toMatch(/Recovery codes remaining: 10/);
    await context.close();
  });
});
