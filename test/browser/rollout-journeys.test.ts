import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { OPERATOR } from '../../src/application/actor.js';
import { expectAccessible } from '../support/accessibility.js';
import { PHONE_TOOLS, authenticatorCode, scanQrCode, secretOf } from '../support/authenticator.js';
import { typeEmailedCode, useBrowserSuite } from '../support/browser-suite.js';
import { missingForBrowserTests } from '../support/chromium.js';
import { reportSkip } from '../support/skips.js';
import { tempDir } from '../support/twofold.js';

/*
 * Rolling enforcement out in Debian's Chromium (docs/rules.md, "Rolling enforcement out",
 * "Remembered browsers"): the owner's settings and adoption, the grace interstitial, the
 * remember-this-browser checkbox and the account page's list with Remove — axe-core on every page,
 * at 1280 and 320 px (test/support/accessibility.ts).
 */
const skip = missingForBrowserTests(PHONE_TOOLS);
if (skip) reportSkip('Browser rollout journeys', skip);

const SHOTS = process.env.TWOFOLD_SCREENSHOTS ?? tempDir('twofold-shots-');
const PASSWORD = 'a long enough password';

(skip ? describe.skip : describe)('rolling enforcement out (Chromium, axe-core)', () => {
  const suite = useBrowserSuite(() => ({}), async (twofold) => {
    await twofold.app.organizations.create(OPERATOR, 'harbor', 'Harbor Authority');
    await twofold.app.organizations.setRollout(OPERATOR, 'harbor', { gracePeriodDays: 14, rememberBrowserDays: 7 }, null);
    await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'harbor', true, null);
    await twofold.app.users.create(OPERATOR, { email: 'olivia@harbor.test', password: PASSWORD, orgs: [{ slug: 'harbor', role: 'owner' }] });
    await twofold.app.users.create(OPERATOR, { email: 'max@harbor.test', password: PASSWORD, orgs: [{ slug: 'harbor', role: 'member' }] });
  });
  const { newPage } = suite;
  const url = (path: string) => `${suite.twofold.url}${path}`;
  const signIn = async (page: Page, email: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  const signOut = async (page: Page) => {
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').waitFor();
  };

  it('an owner puts setup off, then sees the rollout settings and adoption; a member sets up from the interstitial and remembers a browser until removing it', async () => {
    const owner = await newPage();
    await owner.goto(url('/admin/orgs/harbor/settings'));
    await signIn(owner, 'olivia@harbor.test');
    await owner.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await owner.getByText('14 days left').waitFor();
    await expectAccessible(owner, 'grace interstitial');
    await owner.getByRole('button', { name: 'Remind me later' }).click();

    await owner.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(await owner.getByLabel('Grace period (days)').inputValue()).toBe('14');
    expect(await owner.getByLabel('Remember a browser for (days)').inputValue()).toBe('7');
    expect(await owner.getByRole('radio', { name: 'All members' }).isChecked()).toBe(true);
    await owner.getByText('0 of 2 members have a second factor').waitFor();
    await expectAccessible(owner, 'admin settings with rollout and adoption');
    await owner.getByLabel('Grace period (days)').fill('91');
    await owner.getByRole('button', { name: 'Save' }).first().click();
    await owner.getByText('The grace period must be a whole number of days from 0 to 90.').waitFor();
    await expectAccessible(owner, 'admin settings, grace period refused');

    const member = await newPage();
    await member.goto(url('/account'));
    await signIn(member, 'max@harbor.test');
    await member.getByRole('button', { name: 'Set up now' }).click();
    await member.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const secret = secretOf(await scanQrCode(member, SHOTS));
    await typeEmailedCode(member);
    await member.getByLabel('Token').fill(authenticatorCode(secret, -30));
    await member.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await member.getByRole('button', { name: 'Continue' }).click();
    await member.getByRole('heading', { name: 'Your account' }).waitFor();
    await signOut(member);

    await signIn(member, 'max@harbor.test');
    await member.getByLabel('Remember this browser for 7 days').check();
    await expectAccessible(member, 'challenge with remember this browser');
    await member.getByLabel('One-time passcode').fill(authenticatorCode(secret));
    await member.getByRole('button', { name: 'Log in' }).click();
    await member.getByRole('heading', { name: 'Remembered browsers' }).waitFor();
    await expectAccessible(member, 'account with remembered browsers');
    await signOut(member);

    // The remembered browser: the password alone.
    await signIn(member, 'max@harbor.test');
    await member.getByRole('heading', { name: 'Your account' }).waitFor();
    await member.getByRole('button', { name: /^Remove Chrome/ }).click();
    await member.getByText('That browser is no longer remembered').or(member.getByLabel('One-time passcode')).first().waitFor();
    await member.goto(url('/account'));
    // Removed: this browser is asked for the passcode again.
    if (await member.getByLabel('Email').isVisible()) await signIn(member, 'max@harbor.test');
    await member.getByLabel('One-time passcode').waitFor();

    await owner.goto(url('/admin/orgs/harbor/members?filter=overdue'));
    await owner.getByRole('link', { name: 'Everyone' }).click();
    await owner.getByText('1 of 2 members has a second factor').waitFor();
    await owner.getByRole('columnheader', { name: 'Deadline' }).waitFor();
    await expectAccessible(owner, 'admin members with deadlines and adoption');
  });
});
