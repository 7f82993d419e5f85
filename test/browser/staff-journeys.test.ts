import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { OPERATOR } from '../../src/application/actor.js';
import { DEMO } from '../../src/demo/seed.js';
import { expectAccessible, withoutJavaScript } from '../support/accessibility.js';
import { PHONE_TOOLS, authenticatorCode, scanQrCode, secretOf } from '../support/authenticator.js';
import { typeEmailedCode, useBrowserSuite } from '../support/browser-suite.js';
import { missingForBrowserTests } from '../support/chromium.js';
import { discover, startSignIn } from '../support/relying-party.js';
import { reportSkip } from '../support/skips.js';
import { freePort, tempDir } from '../support/twofold.js';

/*
 * The journeys of issue 13 in Debian's Chromium — each ends somewhere useful — with axe-core on every
 * page they pass, at 1280 and 320 px (test/support/accessibility.ts).
 */
const skip = missingForBrowserTests(PHONE_TOOLS);
if (skip) reportSkip('Browser staff journeys', skip);

const SHOTS = process.env.TWOFOLD_SCREENSHOTS ?? tempDir('twofold-shots-');
const PASSWORD = 'a long enough password';
const PARTNER_SECRET = 'a partner secret of at least 32 characters';

(skip ? describe.skip : describe)('staff journeys without dead ends (Chromium, axe-core)', () => {
  const suite = useBrowserSuite(() => ({ TWOFOLD_DEMO: '1' }), async (twofold) => {
    await twofold.app.organizations.setForceTwoFactor(OPERATOR, DEMO.organization.slug, true, null);
  });
  const { newPage } = suite;
  const url = (path: string) => `${suite.twofold.url}${path}`;
  const user = (email: string, orgs: Array<{ slug: string; role: 'owner' | 'member' }> = [], extra: { siteAdmin?: boolean } = {}) =>
    suite.twofold.app.users.create(OPERATOR, { email, password: PASSWORD, orgs, ...extra });
  const signIn = async (page: Page, email: string, password = PASSWORD) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };
  /** From the setup page to the end of the recovery codes; returns the key the phone now holds. */
  const setUpAuthenticator = async (page: Page, ahead = -30): Promise<string> => {
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const secret = secretOf(await scanQrCode(page, SHOTS));
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret, ahead));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    return secret;
  };
  // The focus lands on an autofocused field once the page has loaded: the journeys wait for it there.
  const inView = (page: Page, selector: string) => page.locator(selector).evaluate((element) => {
    const box = element.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= window.innerHeight;
  });

  it('forgot password: the e-mailed link sets a new one, works once, and the next sign-in still asks for the passcode', async () => {
    const email = 'forgetful@demo.test';
    await user(email, [{ slug: DEMO.organization.slug, role: 'member' }]);
    const page = await newPage();
    await page.goto(url('/account'));
    await signIn(page, email);
    const secret = await setUpAuthenticator(page);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByRole('link', { name: 'Sign out' }).click();
    await expectAccessible(page, 'sign out?');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Back at the account page, which asks to sign in.
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expectAccessible(page, 'forgot password');
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('heading', { name: 'Check your e-mail' }).waitFor();
    await expectAccessible(page, 'reset link sent');
    const link = /(http\S+\/password\/reset\/\S+)/.exec((await suite.smtp.waitFor(email, /^Set a new password$/)).text)![1]!;

    await page.goto(link);
    await expectAccessible(page, 'set a new password');
    await page.getByLabel('New password', { exact: true }).fill('a brand new password');
    await page.getByLabel('New password again').fill('a brand new passw0rd');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('The two passwords are not the same.').waitFor();
    // The field in error has the focus, and says why.
    await page.waitForFunction((id) => document.activeElement?.id === id, 'confirm');
    await expectAccessible(page, 'set a new password, error');
    await page.getByLabel('New password', { exact: true }).fill('a brand new password');
    await page.getByLabel('New password again').fill('a brand new password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'Your new password is set' }).waitFor();
    await expectAccessible(page, 'new password set');

    await page.getByRole('link', { name: 'Sign in to your account page' }).click();
    await signIn(page, email, 'a brand new password');
    // The reset did not skip the second factor.
    await page.getByLabel('One-time passcode').fill(authenticatorCode(secret));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    // The link worked once; the page it leads to now offers a new one.
    await page.goto(link);
    await expectAccessible(page, 'reset link already used');
    await page.getByRole('link', { name: 'Ask for a new link' }).click();
    await page.getByRole('button', { name: 'Send reset link' }).waitFor();
  });

  it('a new phone and a new password from /account; a wrong password is said next to its field, with the focus there', async () => {
    const email = 'mover@demo.test';
    await user(email);
    const page = await newPage();
    await page.goto(url('/account'));
    await signIn(page, email);
    await page.locator('#activate').getByLabel('Current password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Activate 2FA' }).click();
    // With scripts on, the key has a Copy button.
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    expect(await page.getByRole('button', { name: 'Copy key' }).isVisible()).toBe(true);
    const oldSecret = await setUpAuthenticator(page);
    await page.getByText('Two-factor authentication is enabled.').waitFor();

    const newApp = page.locator('#new-app');
    const keptPasscode = authenticatorCode(oldSecret);
    await newApp.getByLabel('Current password').fill('not my password');
    await newApp.getByLabel('One-time passcode').fill(keptPasscode);
    await page.getByRole('button', { name: 'Set up a new authenticator app' }).click();
    await page.getByText('That password is not right.').waitFor();
    // Not 960 px down with the focus on the body: the wrong field has the focus, in view; the passcode not yet checked is kept.
    await page.waitForFunction((id) => document.activeElement?.id === id, 'new-app-password');
    expect(await inView(page, '#new-app-password')).toBe(true);
    expect(await page.locator('#new-app-passcode').inputValue()).toBe(keptPasscode);
    await expectAccessible(page, 'account, wrong password');

    await page.locator('#new-app-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set up a new authenticator app' }).click();
    await page.getByText('Your current app keeps working until you enter the new app\'s first passcode').waitFor();
    await expectAccessible(page, 'setup, new phone');
    const newSecret = secretOf(await scanQrCode(page, SHOTS));
    expect(newSecret).not.toBe(oldSecret);
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(newSecret));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByText('Your new authenticator app is set up.').waitFor();
    await expectAccessible(page, 'account, new phone set up');
    await suite.smtp.waitFor(email, /A new authenticator app is set up/);

    const password = page.locator('#password');
    await password.getByLabel('Current password').fill(PASSWORD);
    await password.getByLabel('One-time passcode').fill(authenticatorCode(newSecret, 30));
    await password.getByLabel('New password', { exact: true }).fill('my changed password');
    await password.getByLabel('New password again').fill('my changed password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password is changed.').waitFor();
    await expectAccessible(page, 'account, password changed');
    await suite.smtp.waitFor(email, /Your password was changed/);
  });

  it('without JavaScript: no dead Copy buttons; used-up attempts and a locked account say so, with Start again and whom to ask', async () => {
    const email = 'guesser@demo.test';
    await user(email, [{ slug: DEMO.organization.slug, role: 'member' }]);
    const page = withoutJavaScript(await newPage({ javaScriptEnabled: false }));
    await page.goto(url('/account'));
    await signIn(page, email);
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    expect(await page.getByRole('button', { name: 'Copy key' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Open in authenticator app' }).getAttribute('href')).toMatch(/^otpauth:\/\/totp\//);
    const secret = secretOf(await scanQrCode(page, SHOTS));
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    expect(await page.getByRole('button', { name: 'Copy' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();

    const wrongCodes = async (count: number) => {
      for (let attempt = 0; attempt < count; attempt += 1) {
        await page.getByLabel('One-time passcode').fill(String(100000 + attempt));
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.waitForLoadState('load');
      }
    };
    const context = page.context();
    await context.clearCookies();
    await page.goto(url('/account'));
    await signIn(page, email);
    // Someone who lost phone and codes is told whom to ask, by name.
    expect(await page.getByText('Lost your phone and your recovery codes?').isVisible()).toBe(true);
    await page.getByText('Lost your phone and your recovery codes?').click();
    await page.getByText(`For ${DEMO.organization.name}: ${DEMO.owner.email}`).waitFor();
    await wrongCodes(5);
    await page.getByText('Too many wrong codes in this sign-in.').waitFor();
    // No live form: the way on is a new sign-in.
    expect(await page.getByLabel('One-time passcode').count()).toBe(0);
    await expectAccessible(page, 'challenge, attempts used up');
    await page.getByRole('link', { name: 'Start again' }).click();
    await signIn(page, email);
    await wrongCodes(5);
    await page.getByText(/Too many wrong codes were entered for this account, so it is locked until/).waitFor();

    // A new sign-in says so as soon as the page opens, not after a code is typed.
    await context.clearCookies();
    await page.goto(url('/account'));
    await signIn(page, email);
    await page.getByText(/it is locked until .* \(about 1[45] minutes\)\. Try again then\./).waitFor();
    expect(await page.getByLabel('One-time passcode').count()).toBe(0);
    await expectAccessible(page, 'challenge, account locked');
    await page.screenshot({ path: `${SHOTS}/locked.png`, fullPage: true });
  });

  it('owner pages: removing asks first, the last-owner refusal sits above the table, the audit log reads as sentences, a wrong identity provider is refused', async () => {
    const page = await newPage();
    await page.goto(url('/admin'));
    await signIn(page, DEMO.owner.email, DEMO.owner.password);
    await setUpAuthenticator(page);
    await page.getByRole('link', { name: DEMO.organization.name }).click();
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members' }).waitFor();

    await page.getByRole('link', { name: `Remove ${DEMO.member.email}` }).click();
    await page.getByRole('heading', { name: `Remove ${DEMO.member.email} from ${DEMO.organization.name}?` }).waitFor();
    await expectAccessible(page, 'admin: confirm Remove');
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('The member was removed.').waitFor();
    expect(await page.getByRole('row', { name: new RegExp(DEMO.member.email) }).count()).toBe(0);

    await page.getByRole('link', { name: `Remove ${DEMO.owner.email}` }).click();
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('alert').filter({ hasText: 'last owner' }).waitFor();
    // Still the members page, with its table: the owner can make someone else an owner from here.
    expect(await page.getByRole('table', { name: `Members of ${DEMO.organization.name}` }).isVisible()).toBe(true);
    await expectAccessible(page, 'admin: members, last-owner refusal');

    await page.getByLabel('Email').fill('newcomer@demo.test');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('cell', { name: 'newcomer@demo.test' }).first().waitFor();
    const invitation = /(http\S+\/invitation\/\S+)/.exec((await suite.smtp.waitFor('newcomer@demo.test', /You have been invited/)).text)![1]!;

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText(`${DEMO.member.email} was removed.`).waitFor();
    await page.getByText('Force Two-Factor Authentication was switched on.').waitFor();
    await expectAccessible(page, 'admin: audit log');

    await page.getByRole('link', { name: 'Settings' }).click();
    const closed = await freePort();
    await page.getByLabel('Issuer URL').fill(`http://localhost:${closed}`);
    await page.getByLabel('Client id').fill('twofold');
    await page.getByLabel('Client secret').fill('secret');
    await page.getByRole('button', { name: 'Save identity provider' }).click();
    await page.getByText(/Nothing was saved: .* did not answer as an OpenID Connect provider \(it could not be reached\)/).waitFor();
    await expectAccessible(page, 'admin: settings, identity provider refused');

    const newcomer = await newPage();
    await newcomer.goto(invitation);
    await expectAccessible(newcomer, 'invitation: set your password');
    await newcomer.getByLabel('New password', { exact: true }).fill('newcomer password');
    await newcomer.getByLabel('New password again').fill('newcomer password');
    await newcomer.getByRole('button', { name: 'Set password' }).click();
    await newcomer.getByRole('heading', { name: 'Your password is set' }).waitFor();
    await expectAccessible(newcomer, 'invitation: password set');
  });

  it('site admin pages, a relying party\'s consent page, and a page that does not exist', async () => {
    await user('root@demo.test', [], { siteAdmin: true });
    const county = await suite.twofold.app.organizations.create(OPERATOR, 'county', 'County of Demo');
    await suite.twofold.app.federation.configure(null, county, { issuer: 'https://login.county.example', clientId: 'twofold', clientSecret: 'secret' }, null, { unchecked: true });
    const page = await newPage();
    await page.goto(url('/admin'));
    await signIn(page, 'root@demo.test');
    // The admin area needs the second factor from site admins.
    await setUpAuthenticator(page);
    await page.getByRole('link', { name: 'Site settings' }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication for the whole site' }).waitFor();
    await expectAccessible(page, 'admin: site settings');
    await page.getByLabel(/Email/).fill('mover@demo.test');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'mover@demo.test' }).click();
    await expectAccessible(page, 'admin: a user');
    await page.goto(url('/admin/site/audit'));
    await expectAccessible(page, 'admin: site audit log');
    await page.getByRole('link', { name: 'API access token' }).click();
    await expectAccessible(page, 'admin: API access token');
    await page.goto(url('/admin/orgs/county/settings'));
    await page.getByRole('heading', { name: 'Email domains' }).waitFor();
    await expectAccessible(page, 'admin: settings of a federated organization');

    await suite.twofold.app.clients.create(OPERATOR, { clientId: 'partner', name: 'Partner portal', redirectUris: ['https://partner.example/callback'], firstParty: false, secret: PARTNER_SECRET });
    const pending = await startSignIn(await discover(suite.twofold.url, 'partner', PARTNER_SECRET), { redirect_uri: 'https://partner.example/callback' });
    const visitor = await newPage();
    await user('visitor@demo.test');
    await visitor.goto(pending.url.href);
    await signIn(visitor, 'visitor@demo.test');
    await visitor.getByRole('heading', { name: 'Allow Partner portal?' }).waitFor();
    await expectAccessible(visitor, 'consent');

    const missing = await visitor.goto(url('/no/such/page'));
    expect(missing?.status()).toBe(404);
    await visitor.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(await visitor.title()).toMatch(/Page not found/);
    await expectAccessible(visitor, 'page not found');
    await visitor.getByRole('link', { name: 'Open your account page' }).waitFor();

    // Signing out of Twofold itself, with no application to go back to.
    await visitor.goto(url('/session/end'));
    await visitor.getByRole('button', { name: 'Sign out' }).click();
    await visitor.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await expectAccessible(visitor, 'signed out');
  });
});
