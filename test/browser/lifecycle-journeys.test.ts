import { describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { OPERATOR } from '../../src/application/actor.js';
import { expectAccessible } from '../support/accessibility.js';
import { PHONE_TOOLS, authenticatorCode, scanQrCode, secretOf } from '../support/authenticator.js';
import { typeEmailedCode, useBrowserSuite } from '../support/browser-suite.js';
import { missingForBrowserTests } from '../support/chromium.js';
import { REDIRECT_URI, discover, startSignIn } from '../support/relying-party.js';
import { reportSkip } from '../support/skips.js';
import { tempDir } from '../support/twofold.js';

/*
 * People leave, in Debian's Chromium (docs/rules.md, "People leave", "Organizations in tokens"): an
 * owner suspends, reactivates, removes-and-suspends and deletes members; the suspended member's
 * sign-in; a site admin's user page; the page for someone who is not a member of the organization an
 * application asked for — axe-core on every page, at 1280 and 320 px (test/support/accessibility.ts).
 */
const skip = missingForBrowserTests(PHONE_TOOLS);
if (skip) reportSkip('Browser lifecycle journeys', skip);

const SHOTS = process.env.TWOFOLD_SCREENSHOTS ?? tempDir('twofold-shots-');
const PASSWORD = 'a long enough password';

(skip ? describe.skip : describe)('people leave (Chromium, axe-core)', () => {
  const suite = useBrowserSuite(() => ({}), async (twofold) => {
    await twofold.app.organizations.create(OPERATOR, 'harbor', 'Harbor Authority');
    await twofold.app.organizations.create(OPERATOR, 'parks', 'Parks Department');
    await twofold.app.users.create(OPERATOR, { email: 'olivia@harbor.test', password: PASSWORD, orgs: [{ slug: 'harbor', role: 'owner' }] });
    for (const name of ['max', 'lee', 'kit']) await twofold.app.users.create(OPERATOR, { email: `${name}@harbor.test`, password: PASSWORD, orgs: [{ slug: 'harbor', role: 'member' }] });
    await twofold.app.users.create(OPERATOR, { email: 'root@site.test', password: PASSWORD, siteAdmin: true });
    await twofold.app.clients.create(OPERATOR, { clientId: 'portal', name: 'Harbor portal', redirectUris: [REDIRECT_URI], firstParty: true });
  });
  const { newPage } = suite;
  const url = (path: string) => `${suite.twofold.url}${path}`;
  const signIn = async (page: Page, email: string) => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  };

  it('an owner suspends, reactivates, removes and suspends, and deletes members; the suspended member is told at sign-in', async () => {
    const owner = await newPage();
    await owner.goto(url('/admin/orgs/harbor/members'));
    await signIn(owner, 'olivia@harbor.test');
    await owner.getByRole('link', { name: 'Suspend account of max@harbor.test' }).click();
    await owner.getByRole('heading', { name: 'Suspend the account of max@harbor.test?' }).waitFor();
    await expectAccessible(owner, 'suspend account');
    await owner.getByRole('button', { name: 'Suspend account' }).click();
    // Without a reason the browser's own check (required) stops the form; the server would refuse it too.
    expect(await owner.getByLabel('Reason').evaluate((input) => (input as HTMLInputElement).validity.valueMissing)).toBe(true);
    await owner.getByLabel('Reason').fill('x'.repeat(201));
    await owner.getByRole('button', { name: 'Suspend account' }).click();
    await owner.getByText('Keep the reason to 200 characters; it has 201.').waitFor();
    // The browser moves the focus to the autofocused field once the page has loaded: wait for it (or time out).
    await owner.waitForFunction(() => document.activeElement?.id === 'reason');
    await expectAccessible(owner, 'suspend account, reason refused');
    await owner.getByLabel('Reason').fill('left the harbor');
    await owner.getByRole('button', { name: 'Suspend account' }).click();
    await owner.getByText('The account was suspended.').waitFor();
    await expectAccessible(owner, 'members with a suspended account');

    const member = await newPage();
    await member.goto(url('/account'));
    await signIn(member, 'max@harbor.test');
    await member.getByText("This account is suspended. Ask your organization's owner or IT team.").waitFor();
    await expectAccessible(member, 'sign-in, account suspended');

    await owner.getByRole('link', { name: 'Reactivate account of max@harbor.test' }).click();
    await expectAccessible(owner, 'reactivate account');
    await owner.getByLabel('Reason').fill('came back');
    await owner.getByRole('button', { name: 'Reactivate account' }).click();
    await owner.getByText('The account was reactivated.').waitFor();
    await signIn(member, 'max@harbor.test');
    await member.getByRole('heading', { name: 'Your account' }).waitFor();

    await owner.getByRole('link', { name: 'Remove lee@harbor.test' }).click();
    await owner.getByLabel('Suspend the account too').check();
    await expectAccessible(owner, 'remove member, suspend the account too');
    await owner.getByLabel('Reason for the suspension').fill('contract ended');
    await owner.getByRole('button', { name: 'Remove' }).click();
    await owner.getByText('The member was removed, and their account suspended').waitFor();

    await owner.getByRole('link', { name: 'Delete account of kit@harbor.test' }).click();
    await expectAccessible(owner, 'delete account');
    await owner.getByLabel('Type kit@harbor.test to confirm').fill('kit@harbour.test');
    await owner.getByRole('button', { name: 'Delete account' }).click();
    await owner.getByText('To delete this account, type its email address (kit@harbor.test) exactly.').waitFor();
    await expectAccessible(owner, 'delete account, email mistyped');
    await owner.getByLabel('Type kit@harbor.test to confirm').fill('kit@harbor.test');
    await owner.getByRole('button', { name: 'Delete account' }).click();
    await owner.getByText('The account was deleted, with its personal data.').waitFor();
    expect(await owner.getByText('kit@harbor.test').count()).toBe(0);
  });

  it('a site admin sees a user\'s status and suspends from their page; a non-member is told so by name, with the way back', async () => {
    const admin = await newPage();
    await admin.goto(url('/admin/site'));
    await signIn(admin, 'root@site.test');
    await admin.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const secret = secretOf(await scanQrCode(admin, SHOTS));
    await typeEmailedCode(admin);
    await admin.getByLabel('Token').fill(authenticatorCode(secret, -30));
    await admin.getByRole('button', { name: 'Activate two-factor authentication' }).click();
    await admin.getByRole('button', { name: 'Continue' }).click();
    const max = (await suite.twofold.store.users.findByEmail('max@harbor.test'))!;
    await admin.goto(url(`/admin/site/users/${max.id}`));
    await admin.getByText('Active').waitFor();
    await expectAccessible(admin, 'site user with status');
    await admin.getByRole('link', { name: 'Suspend account' }).click();
    await admin.getByLabel('Reason').fill('security incident');
    await admin.getByRole('button', { name: 'Suspend account' }).click();
    await admin.getByText('The account was suspended.').waitFor();
    await admin.getByText(/Suspended since \d{4}-\d\d-\d\d/).waitFor();
    await expectAccessible(admin, 'site user, suspended');

    const rp = await discover(suite.twofold.url, 'portal');
    const member = await newPage();
    await member.goto((await startSignIn(rp, { scope: 'openid organization:parks' })).url.href);
    await signIn(member, 'olivia@harbor.test');
    await member.getByRole('heading', { name: 'You are not a member of Parks Department.' }).waitFor();
    expect(await member.getByRole('link', { name: 'Back to Harbor portal' }).getAttribute('href')).toMatch(/\/auth\/[\w-]+$/);
    await expectAccessible(member, 'not a member');
  });
});
