import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { OPERATOR } from '../../src/application/actor.js';
import { expectAccessible, withoutJavaScript } from '../support/accessibility.js';
import { PHONE_TOOLS, authenticatorCode, scanQrCode, secretOf } from '../support/authenticator.js';
import { typeEmailedCode, useBrowserSuite } from '../support/browser-suite.js';
import { missingForBrowserTests } from '../support/chromium.js';
import { REDIRECT_URI } from '../support/relying-party.js';
import { reportSkip } from '../support/skips.js';
import { tempDir } from '../support/twofold.js';

/*
 * The site admins' console in Debian's Chromium, without JavaScript (docs/rules.md, "The site
 * admins' console"): organizations, applications and users, each refusal a sentence next to its
 * field — axe-core on every page, at 1280 and 320 px (test/support/accessibility.ts).
 */
const skip = missingForBrowserTests(PHONE_TOOLS);
if (skip) reportSkip('Browser console journeys', skip);

const SHOTS = process.env.TWOFOLD_SCREENSHOTS ?? tempDir('twofold-shots-');
const PASSWORD = 'a long enough password';

(skip ? describe.skip : describe)('the site admins\' console (Chromium without JavaScript, axe-core)', () => {
  const suite = useBrowserSuite(() => ({}), async (twofold) => {
    await twofold.app.users.create(OPERATOR, { email: 'root@site.test', name: 'Rita Root', password: PASSWORD, siteAdmin: true });
    await twofold.app.organizationSetup.create(OPERATOR, { slug: 'roads', name: 'Roads and Bridges', ownerEmail: 'otto@roads.test' });
    await twofold.app.users.create(OPERATOR, { email: 'wanda.worker@roads.test', name: 'Wanda Worker', password: PASSWORD, orgs: [{ slug: 'roads', role: 'member' }] });
  });
  const url = (path: string) => `${suite.twofold.url}${path}`;
  // The focus lands on an autofocused field once the page has loaded: the journeys wait for it there.
  /** The sentence under a field, tied to it: the field says it is invalid and names the sentence. */
  const errorUnder = async (page: Page, id: string) => {
    const field = page.locator(`#${id}`);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-describedby')).toContain(`${id}-error`);
    return page.locator(`#${id}-error`).textContent();
  };

  it('creates an organization, registers an application, rotates and deletes it, deletes an organization and finds a user', async () => {
    const page = withoutJavaScript(await suite.newPage({ javaScriptEnabled: false }));
    await page.goto(url('/admin/site'));
    await page.getByLabel('Email').fill('root@site.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // Site admins need a second factor for the admin area.
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const secret = secretOf(await scanQrCode(page, SHOTS));
    await typeEmailedCode(page);
    await page.getByLabel('Token').fill(authenticatorCode(secret));
    await page.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Site settings' }).waitFor();
    for (const section of ['Organizations', 'Applications', 'Users']) await page.getByRole('heading', { name: section, exact: true }).waitFor();
    await page.getByRole('link', { name: 'Roads and Bridges', exact: true }).waitFor();
    await expectAccessible(page, 'console: site settings');

    // Organizations.
    const create = page.locator('#create-organization');
    await create.getByLabel('Name').fill('Water Department');
    await create.getByLabel('Slug').fill('Water Works');
    await create.getByLabel("First owner's email").fill('wendy@water.test');
    await page.getByRole('button', { name: 'Create organization' }).click();
    expect(await errorUnder(page, 'organization-slug')).toMatch(/"Water Works" is not a valid organization slug/);
    await page.waitForFunction((id) => document.activeElement?.id === id, 'organization-slug');
    expect(await create.getByLabel('Name').inputValue()).toBe('Water Department');
    await expectAccessible(page, 'console: organization refused');
    await create.getByLabel('Slug').fill('water');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByText('Its first owner was e-mailed a link to set a password').waitFor();
    await suite.smtp.waitFor('wendy@water.test', /You have been invited/);
    await page.getByRole('link', { name: 'Water Department', exact: true }).waitFor();

    // Applications.
    const register = page.locator('#register-application');
    await register.getByLabel('Name').fill('Permit portal');
    await register.getByLabel('Redirect URIs', { exact: true }).fill(`${REDIRECT_URI}\nhttps://rp.example.test/callback#done`);
    await register.getByLabel('Back-channel logout URI').fill('https://rp.example.test/backchannel');
    await page.getByRole('button', { name: 'Register application' }).click();
    expect(await errorUnder(page, 'application-redirect-uris')).toBe('"https://rp.example.test/callback#done" must not contain a fragment (#).');
    await page.waitForFunction((id) => document.activeElement?.id === id, 'application-redirect-uris');
    await expectAccessible(page, 'console: application refused');
    await register.getByLabel('Redirect URIs', { exact: true }).fill(REDIRECT_URI);
    await page.getByRole('button', { name: 'Register application' }).click();
    await page.getByText('Copy this client secret now: it is shown only once.').waitFor();
    const first = await page.locator('code.secret').textContent();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expectAccessible(page, 'console: application registered, secret shown once');
    const clientId = (await page.locator('dd code').first().textContent())!;
    expect((await suite.twofold.store.clients.find(clientId))?.backchannelLogoutUri).toBe('https://rp.example.test/backchannel');

    await page.getByRole('link', { name: 'Back to the applications' }).click();
    await page.getByRole('link', { name: 'Rotate secret: Permit portal' }).click();
    await expectAccessible(page, 'console: rotate a secret');
    await page.getByLabel('Keep the old secret working for (hours)').fill('500');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    expect(await errorUnder(page, 'graceHours')).toBe('The old secret can keep working for a whole number of hours from 0 to 168.');
    await expectAccessible(page, 'console: rotate a secret, refused');
    await page.getByLabel('Keep the old secret working for (hours)').fill('24');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByText(/The old secret keeps working until/).waitFor();
    expect(await page.locator('code.secret').textContent()).not.toBe(first);
    await expectAccessible(page, 'console: new client secret');

    await page.getByRole('link', { name: 'Back to the applications' }).click();
    await page.getByRole('cell', { name: /The old secret works until/ }).waitFor();
    await page.getByRole('link', { name: 'Delete application Permit portal' }).click();
    await expectAccessible(page, 'console: delete an application');
    await page.getByRole('button', { name: 'Delete application' }).click();
    await page.getByText('The application was deleted.').waitFor();
    expect(await suite.twofold.store.clients.find(clientId)).toBeNull();

    // Renaming and deleting an organization.
    await page.getByRole('link', { name: 'Rename Water Department' }).click();
    await expectAccessible(page, 'console: rename an organization');
    await page.getByLabel('Name').fill('Water and Sewers');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByText('The organization was renamed.').waitFor();
    await page.getByRole('link', { name: 'Delete organization Water and Sewers' }).click();
    await expectAccessible(page, 'console: delete an organization');
    await page.getByLabel('Type the slug, water, to confirm').fill('Water');
    await page.getByRole('button', { name: 'Delete organization' }).click();
    expect(await errorUnder(page, 'confirm')).toBe('To delete Water and Sewers, type its slug, water, exactly.');
    await expectAccessible(page, 'console: delete an organization, refused');
    await page.getByLabel('Type the slug, water, to confirm').fill('water');
    await page.getByRole('button', { name: 'Delete organization' }).click();
    await page.getByText('The organization was deleted.').waitFor();
    expect(await suite.twofold.store.organizations.findBySlug('water')).toBeNull();
    expect(await suite.twofold.store.users.findByEmail('wendy@water.test')).not.toBeNull();

    // Users.
    await page.getByLabel('Email or name contains').fill('worker');
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('row', { name: /wanda\.worker@roads\.test/ });
    await row.getByRole('cell', { name: 'Roads and Bridges', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    await expectAccessible(page, 'console: users found');
    await page.goto(url('/admin/site?q=worker&page=nope'));
    await page.getByText('The page number must be a whole number from 1 to 100000.').waitFor();
    await expectAccessible(page, 'console: users, a page number refused');
    await page.goto(url('/admin/site?q=worker'));
    await page.getByRole('link', { name: 'wanda.worker@roads.test' }).click();
    await page.getByText('Status: Active').waitFor();
    await expectAccessible(page, 'console: a user');
  });
});
