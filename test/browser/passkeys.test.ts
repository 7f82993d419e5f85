import { describe, expect, it } from '@jest/globals';
import type { CDPSession, Page } from 'playwright-core';
import { OPERATOR } from '../../src/application/actor.js';
import { DEMO } from '../../src/demo/seed.js';
import { ACR } from '../../src/policy/acr.js';
import { expectAccessible } from '../support/accessibility.js';
import { typeEmailedCode, useBrowserSuite } from '../support/browser-suite.js';
import { missingForBrowserTests } from '../support/chromium.js';
import { reportSkip } from '../support/skips.js';
import { freePort } from '../support/twofold.js';

/*
 * Signing in with a passkey alone (docs/rules.md, "Phishing-resistant sign-in") in Debian's Chromium,
 * with the DevTools protocol's virtual authenticator as a device that keeps passkeys (resident keys)
 * and checks its user (PIN or fingerprint). A passkey answering without that check is one factor; the
 * virtual authenticator gives no such answer to a request that names no account, so that case is
 * proven over HTTP with a key made in Node (test/flows/phishing-resistant.test.ts). Twofold runs as
 * http://localhost:<port>: an IP address is never a relying-party id. Every page passes axe-core.
 */
const skip = missingForBrowserTests();
if (skip) reportSkip('Browser passkey journeys', skip);

const PASSWORD = 'a long enough password';

interface Device {
  readonly cdp: CDPSession;
  readonly authenticatorId: string;
}

/** A device that keeps passkeys and checks its user (a laptop's fingerprint reader), in this tab. */
async function deviceWithPasskeys(page: Page): Promise<Device> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

(skip ? describe.skip : describe)('passkey sign-in in a real browser (Chromium, virtual authenticator)', () => {
  const suite = useBrowserSuite(async () => {
    const port = await freePort();
    return { TWOFOLD_DEMO: '1', PORT: String(port), ISSUER: `http://localhost:${port}` };
  }, async (twofold) => {
    await twofold.app.organizations.setForceTwoFactor(OPERATOR, DEMO.organization.slug, true, null);
  });
  const member = (email: string) => suite.twofold.app.users.create(OPERATOR, { email, password: PASSWORD, orgs: [{ slug: DEMO.organization.slug, role: 'member' }] });
  const toSignIn = async (page: Page) => {
    await page.goto(`${suite.twofold.url}/demo`);
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  };
  const claimsAtDemo = async (page: Page) => {
    await page.getByRole('heading', { name: 'Twofold demo application' }).waitFor();
    const claims = JSON.parse(await page.getByLabel('ID token claims').innerText()) as { amr: string[]; acr: string };
    return { amr: [...claims.amr].sort(), acr: claims.acr };
  };
  const signOut = async (page: Page) => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
  };
  /** The forced setup with a passkey of this device (and the code e-mailed to the member), on to the demo. */
  const setUpPasskey = async (page: Page, email: string) => {
    await toSignIn(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('link', { name: 'Use a security key or passkey instead' }).click();
    await page.getByLabel('Name of the key').fill('This laptop');
    await typeEmailedCode(page);
    await page.getByRole('button', { name: 'Add security key or passkey' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await claimsAtDemo(page);
  };

  /** Whether the device answers by itself (a person touching it at once), or waits. */
  const presence = (device: Device, automatic: boolean) => device.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: device.authenticatorId, enabled: automatic });
  const expectPasskeyAlone = async (page: Page) => {
    const claims = await claimsAtDemo(page);
    expect(claims.amr).toContain('user');
    expect(claims.amr).toContain('mfa');
    expect(claims.amr).not.toContain('pwd');
    expect(claims.amr.some((value) => value === 'hwk' || value === 'swk')).toBe(true);
    expect(claims.acr).toBe(ACR.phishingResistant);
  };

  it('signs in with a passkey alone from the email field\'s autofill: two factors, no password, the phishing-resistant level', async () => {
    const email = 'passkey-user@demo.test';
    await member(email);
    const page = await suite.newPage();
    await deviceWithPasskeys(page);
    await setUpPasskey(page, email);
    await signOut(page);
    // The sign-in page asks the browser for a passkey as the email field's autofill; this device answers it.
    await page.goto(`${suite.twofold.url}/demo`);
    await page.getByRole('link', { name: 'Sign in', exact: true }).click();
    await expectPasskeyAlone(page);
  });

  it('signs in with the Sign in with a passkey button', async () => {
    const email = 'passkey-button@demo.test';
    await member(email);
    const page = await suite.newPage();
    const device = await deviceWithPasskeys(page);
    await setUpPasskey(page, email);
    await signOut(page);
    // Nobody touches the device while the page opens, so the autofill request waits; then the button.
    await presence(device, false);
    await toSignIn(page);
    await expect(page.getByLabel('Email').getAttribute('autocomplete')).resolves.toBe('username webauthn');
    await expectAccessible(page, 'sign-in with the passkey button');
    await presence(device, true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectPasskeyAlone(page);
  });
});
