import { describe, expect, it } from '@jest/globals';
import type { CDPSession, Page } from 'playwright-core';
import { OPERATOR } from '../../src/application/actor.js';
import { DEMO } from '../../src/demo/seed.js';
import { expectAccessible, withoutJavaScript } from '../support/accessibility.js';
import { PHONE_TOOLS, authenticatorCode, scanQrCode, secretOf } from '../support/authenticator.js';
import { typeEmailedCode, useBrowserSuite } from '../support/browser-suite.js';
import { missingForBrowserTests } from '../support/chromium.js';
import { reportSkip } from '../support/skips.js';
import { freePort, tempDir } from '../support/twofold.js';

/*
 * Security keys and passkeys in Debian's Chromium, with the DevTools protocol's virtual
 * authenticator standing in for the key (docs/rules.md, "Security keys and passkeys"). WebAuthn
 * needs a secure context and a domain name as relying-party id, so this Twofold runs as
 * http://localhost:<port>, never 127.0.0.1. Every page passes axe-core at 1280 and 320 px.
 */
const skip = missingForBrowserTests(PHONE_TOOLS);
if (skip) reportSkip('Browser security-key journeys', skip);

const SHOTS = process.env.TWOFOLD_SCREENSHOTS ?? tempDir('twofold-shots-');
const PASSWORD = 'a long enough password';

interface VirtualKey {
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
}

/** A key plugged into this tab: a USB security key, or a passkey kept by the device ('internal'). */
async function plugInKey(page: Page, transport: 'usb' | 'internal'): Promise<VirtualKey> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport, hasResidentKey: transport === 'internal', hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

async function credentialsOn(key: VirtualKey): Promise<Array<{ credentialId: string; signCount: number }>> {
  return (await key.cdp.send('WebAuthn.getCredentials', { authenticatorId: key.authenticatorId })).credentials;
}

(skip ? describe.skip : describe)('security keys and passkeys in a real browser (Chromium, virtual authenticator)', () => {
  const suite = useBrowserSuite(async () => {
    const port = await freePort();
    return { TWOFOLD_DEMO: '1', PORT: String(port), ISSUER: `http://localhost:${port}` };
  }, async (twofold) => {
    await twofold.app.organizations.setForceTwoFactor(OPERATOR, DEMO.organization.slug, true, null);
  });
  const { newPage } = suite;
  const member = (email: string) => suite.twofold.app.users.create(OPERATOR, { email, password: PASSWORD, orgs: [{ slug: DEMO.organization.slug, role: 'member' }] });
  const signInAtDemo = async (page: Page, email: string) => {
    await page.goto(`${suite.twofold.url}/demo`);
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  /** The `amr` of the ID token, as the demo application shows it after the sign-in. */
  const amrAtDemo = async (page: Page) => {
    await page.getByRole('heading', { name: 'Twofold demo application' }).waitFor();
    const claims = JSON.parse(await page.getByLabel('ID token claims').innerText()) as { amr: string[]; acr: string };
    return { amr: [...claims.amr].sort(), acr: claims.acr };
  };
  const signOutOfDemo = async (page: Page) => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  };

  it('forced setup with a key only, sign-in with it, a second key, remove one, and the admin reset removes them all', async () => {
    const email = 'keyholder@demo.test';
    const { id: userId } = await member(email);
    const page = await newPage();
    const usbKey = await plugInKey(page, 'usb');

    // Forced setup: a key instead of an app.
    await signInAtDemo(page, email);
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await page.getByRole('link', { name: 'Use a security key or passkey instead' }).click();
    await page.getByLabel('Name of the key').waitFor();
    await expectAccessible(page, 'setup: security key');
    await page.getByLabel('Name of the key').fill('Blue key');
    await typeEmailedCode(page);
    await page.getByRole('button', { name: 'Add security key or passkey' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    expect(await page.locator('#recovery-codes code').count()).toBe(10);
    await expectAccessible(page, 'recovery codes after a key');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await amrAtDemo(page)).toStrictEqual({ amr: ['hwk', 'mfa', 'pwd'], acr: 'urn:twofold:acr:phishing-resistant' });
    expect(await credentialsOn(usbKey)).toHaveLength(1);
    const [saved] = await suite.twofold.store.securityKeys.listByUser(userId);
    expect([saved?.name, saved?.credentialId]).toStrictEqual(['Blue key', (await credentialsOn(usbKey))[0]!.credentialId.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')]);
    expect((await suite.twofold.store.secondFactors.find(userId))?.sealedSecret).toBeNull();
    await suite.smtp.waitFor(email, /A security key or passkey was added/);

    // Every later sign-in: the key, and no passcode field (there is no app).
    await signOutOfDemo(page);
    await signInAtDemo(page, email);
    await page.getByRole('button', { name: 'Use your security key or passkey' }).waitFor();
    expect(await page.getByLabel('One-time passcode').count()).toBe(0);
    await expect(page.getByRole('link', { name: 'Use a recovery code' }).isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'challenge: security key');
    await page.getByRole('button', { name: 'Use your security key or passkey' }).click();
    expect((await amrAtDemo(page)).amr).toStrictEqual(['hwk', 'mfa', 'pwd']);
    expect((await suite.twofold.store.securityKeys.find(saved!.credentialId))?.lastUsedAt).toBeInstanceOf(Date);

    // A second key from the account page: the password, and the first key to re-authenticate.
    await page.goto(`${suite.twofold.url}/account`);
    await page.getByRole('heading', { name: 'Security keys and passkeys' }).waitFor();
    await expectAccessible(page, 'account with a key');
    await expect(page.locator('#security-keys').getByText('Blue key').isVisible()).resolves.toBe(true);
    const addKey = page.locator('#add-key');
    await addKey.getByLabel('Current password').fill(PASSWORD);
    await addKey.getByRole('button', { name: 'Add security key or passkey' }).click();
    await page.getByLabel('Name of the key').waitFor();
    await expectAccessible(page, 'account: add a key');
    // The USB key refuses to be added twice (the options exclude it): unplug it, and use the laptop's passkey.
    await usbKey.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: usbKey.authenticatorId });
    const laptop = await plugInKey(page, 'internal');
    await page.getByLabel('Name of the key').fill('Laptop passkey');
    await typeEmailedCode(page);
    await page.getByRole('button', { name: 'Add security key or passkey' }).click();
    await page.getByText('Your security key or passkey is added.').waitFor();
    expect((await suite.twofold.store.securityKeys.listByUser(userId)).map((key) => key.name)).toStrictEqual(['Blue key', 'Laptop passkey']);
    expect(await credentialsOn(laptop)).toHaveLength(1);

    // Remove the lost USB key, re-authenticating with the passkey.
    await page.getByRole('link', { name: 'Remove Blue key' }).click();
    await page.getByRole('heading', { name: 'Remove Blue key' }).waitFor();
    await expectAccessible(page, 'remove a key');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByText('The security key or passkey is removed').waitFor();
    expect((await suite.twofold.store.securityKeys.listByUser(userId)).map((key) => key.name)).toStrictEqual(['Laptop passkey']);
    await suite.smtp.waitFor(email, /A security key or passkey was removed/);

    // The last factor cannot go while the organization requires one.
    await page.getByRole('link', { name: 'Remove Laptop passkey' }).click();
    await page.getByText('This is your only second factor, and your organization or this site requires one').waitFor();
    expect(await page.getByRole('button', { name: 'Remove', exact: true }).count()).toBe(0);
    await expectAccessible(page, 'remove the last key, refused');

    // The admin's Disable 2FA removes the keys too; the next sign-in starts a new setup.
    await suite.twofold.app.users.disableTwoFactor(OPERATOR, userId, null, 'lost every key');
    expect(await suite.twofold.store.securityKeys.listByUser(userId)).toStrictEqual([]);
    expect(await suite.twofold.store.secondFactors.find(userId)).toBeNull();
    await suite.smtp.waitFor(email, /Two-factor authentication was turned off/);
    const later = await newPage();
    await signInAtDemo(later, email);
    await later.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
  });

  it('a user with both an app and a key gets both on the challenge, and either works', async () => {
    const email = 'both@demo.test';
    const { id: userId } = await member(email);
    const page = await newPage();
    await plugInKey(page, 'usb');

    await signInAtDemo(page, email);
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const secret = secretOf(await scanQrCode(page, SHOTS));
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret, -30));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    expect((await amrAtDemo(page)).amr).toStrictEqual(['mfa', 'otp', 'pwd']);

    // Add a key, re-authenticating with a passcode (typed, so the browser does not ask a key).
    await page.goto(`${suite.twofold.url}/account`);
    const addKey = page.locator('#add-key');
    await addKey.getByLabel('Current password').fill(PASSWORD);
    await addKey.getByLabel('One-time passcode').fill(authenticatorCode(secret));
    await addKey.getByRole('button', { name: 'Add security key or passkey' }).click();
    await page.getByLabel('Name of the key').fill('Office key');
    await typeEmailedCode(page);
    await page.getByRole('button', { name: 'Add security key or passkey' }).click();
    await page.getByText('Your security key or passkey is added.').waitFor();
    const factor = await suite.twofold.store.secondFactors.find(userId);
    expect([factor?.sealedSecret !== null, factor?.recoveryCodes.length]).toStrictEqual([true, 10]);

    await page.goto(`${suite.twofold.url}/demo/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signInAtDemo(page, email);
    await page.getByRole('button', { name: 'Use your security key or passkey' }).waitFor();
    await expect(page.getByLabel('One-time passcode').isVisible()).resolves.toBe(true);
    await expectAccessible(page, 'challenge: app and key');
    await page.getByRole('button', { name: 'Use your security key or passkey' }).click();
    expect((await amrAtDemo(page)).amr).toStrictEqual(['hwk', 'mfa', 'pwd']);
  });

  it('without JavaScript the challenge says a key needs it and offers the recovery codes', async () => {
    const email = 'noscript@demo.test';
    const { id: userId } = await member(email);
    const scripted = await newPage();
    await plugInKey(scripted, 'usb');
    await signInAtDemo(scripted, email);
    await scripted.getByRole('link', { name: 'Use a security key or passkey instead' }).click();
    await scripted.getByLabel('Name of the key').fill('Key');
    await typeEmailedCode(scripted);
    await scripted.getByRole('button', { name: 'Add security key or passkey' }).click();
    await scripted.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    const codes = await scripted.locator('#recovery-codes code').allInnerTexts();
    await scripted.getByRole('button', { name: 'Continue' }).click();
    await amrAtDemo(scripted);
    expect(await suite.twofold.store.securityKeys.listByUser(userId)).toHaveLength(1);

    const page = withoutJavaScript(await newPage({ javaScriptEnabled: false }));
    await signInAtDemo(page, email);
    await page.getByText('Using a security key or passkey needs JavaScript').waitFor();
    expect(await page.getByRole('button', { name: 'Use your security key or passkey' }).isVisible()).toBe(false);
    await expectAccessible(page, 'challenge: key without JavaScript');
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(codes[0]!);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Keep a way to sign in' }).waitFor();
  });
});
