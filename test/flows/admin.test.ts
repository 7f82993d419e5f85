import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { adminBrowser, apiTokenFrom, callApi, postForm } from '../support/admin.js';
import { Browser, formAction } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, setupKeyOf } from '../support/second-factor.js';

describe('organization administration (/admin and /admin/api)', () => {
  let fixture: Fixture;
  // Signed in once, before the organization forces 2FA: once it does, her session needs her second
  // factor too, as it should, and she sets it up on the way.
  let owner: Browser;
  let siteAdmin: Browser;
  let ownerToken: string;
  const url = () => fixture.twofold.url;
  const store = () => fixture.twofold.store;
  const auditActions = async (slug: string | null) => {
    const organization = slug ? await store().organizations.findBySlug(slug) : null;
    return (await store().audit.list(organization?.id ?? null, { limit: 100, offset: 0 })).events.map((event) => event.action);
  };
  const userId = async (email: string) => (await store().users.findByEmail(email))!.id;

  beforeAll(async () => {
    fixture = await startFixture();
    const twofoldApp = fixture.twofold.app;
    await twofoldApp.organizations.create(OPERATOR, 'springfield', 'City of Springfield');
    await twofoldApp.users.create(OPERATOR, { email: 'olivia@springfield.test', name: 'Olivia Owner', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'owner' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'max@springfield.test', name: 'Max Member', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'member' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'nina@springfield.test', name: 'Nina', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'member' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'root@site.test', name: 'Site Admin', password: PASSWORD, siteAdmin: true });
    owner = (await adminBrowser(url(), 'olivia@springfield.test', PASSWORD)).browser;
    siteAdmin = (await adminBrowser(url(), 'root@site.test', PASSWORD)).browser;
  });
  afterAll(() => fixture.close());

  it('follows seed 000 literally: Settings › Security › Force Two-Factor Authentication › Save', async () => {
    const browser = owner;
    const page = await browser.visit('/admin');
    expect(page.html).toMatch(/City of Springfield/);
    const settings = await browser.visit('/admin/orgs/springfield/settings');
    expect(settings.html).toMatch(/<h2 id="security-heading">Security<\/h2>/);
    expect(settings.html).toMatch(/<input id="forceTwoFactor" type="checkbox" name="forceTwoFactor" value="on"[^>]*>\s*<label for="forceTwoFactor">Force Two-Factor Authentication<\/label>/);
    expect(settings.html).toMatch(/<button class="primary" type="submit">Save<\/button>/);
    expect(settings.html).toMatch(/3 members have not set up two-factor authentication yet/);
    expect(settings.html).toMatch(/max@springfield\.test/);

    expect(settings.html).toMatch(/You have not set up two-factor authentication yourself: once you save, these pages ask you to set it up/);
    const required = await browser.submit(settings, formAction(settings.html, '/settings'), { forceTwoFactor: 'on' });
    // The rule now holds for the owner's own session too: she sets up her second factor, then is back.
    expect(required.html).toMatch(/Set up two-factor authentication/);
    const { landed: saved } = await completeSetup(browser, required);
    ownerToken = await apiTokenFrom(browser);
    expect(saved.url).toBe(`${url()}/admin/orgs/springfield/settings?done=saved&notified=3`);
    expect(saved.html).toMatch(/Saved\./);
    expect(saved.html).toMatch(/We e-mailed 3 members/);
    expect(saved.html).toMatch(/id="forceTwoFactor"[^>]*checked/);
    await fixture.smtp.waitFor('max@springfield.test', /Your organization now requires two-factor authentication/);
    expect(await auditActions('springfield')).toContain('policy.changed');

    const member = await signInWithPassword(new Browser(url()), await startSignIn(fixture.rp), 'max@springfield.test', PASSWORD);
    // Step 5: the member is prompted at the next sign-in.
    expect(member.html).toMatch(/Set up two-factor authentication/);
    const ownerAgain = await signInWithPassword(new Browser(url()), await startSignIn(fixture.rp), 'olivia@springfield.test', PASSWORD);
    // The owner too, at her next sign-in: she set it up already, so her passcode.
    expect(ownerAgain.html).toMatch(/One-time passcode/);
  });

  it('lists members with their 2FA status, filters those without, and keeps at least one owner', async () => {
    const browser = owner;
    const nina = new Browser(url());
    await completeSetup(nina, await signInWithPassword(nina, await startSignIn(fixture.rp), 'nina@springfield.test', PASSWORD));

    const members = await browser.visit('/admin/orgs/springfield/members');
    expect(members.html).toMatch(/nina@springfield\.test<\/span><\/td><td data-label="Role">Member<\/td><td data-label="Two-factor authentication"><span class="status-on">Enrolled<\/span>/);
    expect(members.html).toMatch(/max@springfield\.test<\/span><\/td><td data-label="Role">Member<\/td><td data-label="Two-factor authentication"><span class="status-off">Not yet<\/span>/);
    expect(members.html).toMatch(/aria-label="Disable 2FA for nina@springfield\.test">Disable 2FA</);
    const filtered = await browser.visit('/admin/orgs/springfield/members?filter=without-2fa');
    expect(filtered.html).not.toMatch(/nina@springfield\.test/);
    expect(filtered.html).toMatch(/max@springfield\.test/);

    await fixture.twofold.app.users.create(OPERATOR, { email: 'staff-admin@springfield.test', password: PASSWORD, siteAdmin: true, orgs: [{ slug: 'springfield', role: 'member' }] });
    const staffAdmin = await userId('staff-admin@springfield.test');
    await store().secondFactors.enable({ userId: staffAdmin, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
    const weaken = await postForm(browser, `/admin/orgs/springfield/members/${staffAdmin}/disable-2fa`);
    // An owner cannot disable a site admin's 2FA.
    expect(weaken.status).toBe(403);
    expect(await store().secondFactors.find(staffAdmin)).toBeTruthy();
    await store().memberships.remove((await store().organizations.findBySlug('springfield'))!.id, staffAdmin);

    const lastOwner = await postForm(browser, `/admin/orgs/springfield/members/${await userId('olivia@springfield.test')}/remove`);
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.html).toMatch(/is the last owner of City of Springfield/);
    // The refusal is said above the members table, where the owner can promote someone else.
    expect(lastOwner.html).toMatch(/<caption class="visually-hidden">Members of City of Springfield<\/caption>/);
    const demote = await postForm(browser, `/admin/orgs/springfield/members/${await userId('olivia@springfield.test')}/role`, { role: 'member' });
    expect(demote.status).toBe(409);

    const promoted = await postForm(browser, `/admin/orgs/springfield/members/${await userId('max@springfield.test')}/role`, { role: 'owner' });
    expect(promoted.html).toMatch(/The role was changed\./);
    const demoted = await postForm(browser, `/admin/orgs/springfield/members/${await userId('max@springfield.test')}/role`, { role: 'member' });
    expect(demoted.html).toMatch(/The role was changed\./);
    const actions = await auditActions('springfield');
    expect(actions.filter((action) => action === 'member.role_changed')).toHaveLength(2);
    // The member enabling 2FA is in the organization log.
    expect(actions).toContain('two_factor.enabled');
  });

  it('invites an existing user, who joins by accepting, and invites a new one who sets a password from the e-mail', async () => {
    const browser = owner;
    const springfield = (await store().organizations.findBySlug('springfield'))!;
    await fixture.twofold.app.users.create(OPERATOR, { email: 'existing@elsewhere.test', password: PASSWORD });
    const added = await postForm(browser, '/admin/orgs/springfield/members', { email: 'Existing@Elsewhere.test', role: 'member' });
    expect(added.html).toMatch(/They already have an account, so they were e-mailed an invitation\. They join when they accept it/);
    expect(added.html).toMatch(/Invited, not yet joined/);
    expect(await store().memberships.find(springfield.id, await userId('existing@elsewhere.test'))).toBeNull();
    const invitation = await fixture.smtp.waitFor('existing@elsewhere.test', /invited to join an organization/);
    expect(invitation.text).toMatch(/olivia@springfield\.test invited you \(existing@elsewhere\.test\) to join City of Springfield as a member/);

    // They accept on their account page, signed in; the organization forces 2FA, so they set it up next.
    const existing = new Browser(url());
    const signIn = await existing.visit(new URL(/(http:\/\/[^\s)]+\/account\/invitations)/.exec(invitation.text)![1]!).pathname);
    const account = await existing.submit(signIn, formAction(signIn.html, '/login'), { email: 'existing@elsewhere.test', password: PASSWORD });
    expect(account.html).toMatch(/City of Springfield<\/strong> invited you to join as a member/);
    expect(account.html).toMatch(/It requires two-factor authentication/);
    const joined = await existing.submit(account, formAction(account.html, '/accept'), {});
    expect(joined.html).toMatch(/Set up two-factor authentication/);
    expect((await store().memberships.find(springfield.id, await userId('existing@elsewhere.test')))?.role).toBe('member');
    const again = await postForm(browser, '/admin/orgs/springfield/members', { email: 'existing@elsewhere.test', role: 'member' });
    expect(again.status).toBe(409);
    expect(again.html).toMatch(/is already a member of City of Springfield/);

    const invited = await postForm(browser, '/admin/orgs/springfield/members', { email: 'newhire@springfield.test', role: 'member', name: 'New Hire' });
    expect(invited.html).toMatch(/e-mailed an invitation/);
    const mail = await fixture.smtp.waitFor('newhire@springfield.test', /You have been invited/);
    const link = /(http:\/\/[^\s)]+\/invitation\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const person = new Browser(url());
    const form = await person.visit(link);
    expect(form.html).toMatch(/Set your password/);
    const mismatch = await person.submit(form, formAction(form.html, new URL(link).pathname), { password: 'new hire password', confirm: 'different' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toMatch(/The two passwords are not the same\./);
    const done = await person.submit(form, formAction(form.html, new URL(link).pathname), { password: 'new hire password', confirm: 'new hire password' });
    expect(done.html).toMatch(/Your password is set/);
    // The link works once.
    expect((await person.visit(link)).status).toBe(410);
    const signedIn = await signInWithPassword(new Browser(url()), await startSignIn(fixture.rp), 'newhire@springfield.test', 'new hire password');
    // The organization forces 2FA, so the new member sets it up.
    expect(signedIn.html).toMatch(/Set up two-factor authentication/);
    const actions = await auditActions('springfield');
    expect(actions).toContain('member.joined');
    expect(actions).toContain('member.invited');
    // Setting the first password from the e-mailed link is on the record too.
    expect(actions).toContain('account.password_set');

    // Removing is confirmed on a page that says what it does and does not do.
    const confirmRemove = await browser.visit(`/admin/orgs/springfield/members/${await userId('existing@elsewhere.test')}/remove`);
    expect(confirmRemove.html).toMatch(/Remove existing@elsewhere\.test from City of Springfield\?/);
    expect(confirmRemove.html).toMatch(/Their account stays/);
    expect(await store().memberships.find((await store().organizations.findBySlug('springfield'))!.id, await userId('existing@elsewhere.test'))).toBeTruthy();
    const removed = await browser.submit(confirmRemove, formAction(confirmRemove.html, '/remove'), {});
    expect(removed.html).toMatch(/The member was removed\./);
    expect(await auditActions('springfield')).toContain('member.removed');
  });

  it('disables a member\'s 2FA after a lost device (seed 003): sessions end, the member is e-mailed, and must scan a new QR code', async () => {
    const email = 'lost@springfield.test';
    await fixture.twofold.app.users.create(OPERATOR, { email, name: 'Lou Lost', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'member' }] });
    const device = new Browser(url());
    const { secret: oldSecret } = await completeSetup(device, await signInWithPassword(device, await startSignIn(fixture.rp), email, PASSWORD));

    const browser = owner;
    const confirm = await browser.visit(`/admin/orgs/springfield/members/${await userId(email)}/disable-2fa`);
    expect(confirm.html).toMatch(/Disable 2FA for lost@springfield\.test\?/);
    expect(confirm.html).toMatch(/signed out of every session/);
    const done = await browser.submit(confirm, formAction(confirm.html, '/disable-2fa'), { reason: 'Lost phone, confirmed by phone call' });
    expect(done.html).toMatch(/Two-factor authentication was disabled\./);
    expect(done.html).toMatch(/lost@springfield\.test<\/span><\/td><td data-label="Role">Member<\/td><td data-label="Two-factor authentication"><span class="status-off">Not yet/);

    const mail = await fixture.smtp.waitFor(email, /Two-factor authentication was turned off/);
    expect(mail.text).toMatch(/Olivia Owner \(olivia@springfield\.test\) turned off two-factor authentication/);
    expect(mail.text).toMatch(/Lost phone, confirmed by phone call/);
    const silent = await device.visit((await startSignIn(fixture.rp, { prompt: 'none' })).url.href);
    // The member was signed out everywhere.
    expect(new URL(silent.url).searchParams.get('error')).toBe('login_required');

    const memberBrowser = new Browser(url());
    const next = await signInWithPassword(memberBrowser, await startSignIn(fixture.rp), email, PASSWORD);
    expect(next.html).toMatch(/Set up two-factor authentication/);
    // A new QR code, a new secret.
    expect(setupKeyOf(next.html)).not.toBe(oldSecret);
    const oldDevice = await memberBrowser.submit(next, formAction(next.html, '/setup'), { token: await codeAt(oldSecret, 1) });
    // The old device's codes do not work.
    expect(oldDevice.status).toBe(400);
    const [event] = (await store().audit.list((await store().organizations.findBySlug('springfield'))!.id, { limit: 1, offset: 0 })).events;
    expect(event?.action).toBe('two_factor.reset_by_admin');
    expect(event?.actorEmail).toBe('olivia@springfield.test');
    expect(event?.targetEmail).toBe(email);
    expect(event?.details.reason).toBe('Lost phone, confirmed by phone call');
    expect(event?.ip).toBeTruthy();
  });

  it('lets a site admin set the site-wide mode and disable anyone\'s 2FA from their profile', async () => {
    await fixture.twofold.app.users.create(OPERATOR, { email: 'loner@nowhere.test', password: PASSWORD });
    const browser = siteAdmin;
    const site = await browser.visit('/admin/site');
    expect(site.html).toMatch(/<input type="radio" id="mode-optional" name="mode" value="optional" checked>/);
    const saved = await browser.submit(site, formAction(site.html, '/admin/site'), { mode: 'required' });
    expect(saved.html).toMatch(/The site-wide mode was saved\./);
    expect(await auditActions(null)).toContain('site.two_factor_mode_changed');

    const loner = new Browser(url());
    const setup = await signInWithPassword(loner, await startSignIn(fixture.rp), 'loner@nowhere.test', PASSWORD);
    // Site mode required applies to users in no organization.
    expect(setup.html).toMatch(/Set up two-factor authentication/);
    const { secret } = await completeSetup(loner, setup);

    const found = await browser.visit('/admin/site?q=loner');
    const profileLink = /href="(\/admin\/site\/users\/[^"]+)">loner@nowhere\.test</.exec(found.html)![1]!;
    const profile = await browser.visit(profileLink);
    expect(profile.html).toMatch(/Enrolled/);
    const confirm = await browser.visit(`${profileLink}/disable-2fa`);
    const done = await browser.submit(confirm, formAction(confirm.html, '/disable-2fa'), { reason: '' });
    expect(done.html).toMatch(/Two-factor authentication was disabled/);
    expect(done.html).toMatch(/Not set up/);
    // A user in no organization is audited in the site log.
    expect(await auditActions(null)).toContain('two_factor.reset_by_admin');

    const lonerAgain = new Browser(url());
    const again = await signInWithPassword(lonerAgain, await startSignIn(fixture.rp), 'loner@nowhere.test', PASSWORD);
    expect(again.html).toMatch(/Set up two-factor authentication/);
    const oldDevice = await lonerAgain.submit(again, formAction(again.html, '/setup'), { token: await codeAt(secret, 1) });
    // The old device's code does not activate the new QR code.
    expect(oldDevice.status).toBe(400);
    expect(oldDevice.url).not.toMatch(new RegExp(REDIRECT_URI));
    await store().settings.set('site.two_factor_mode', 'optional');
  });

  it('pages the audit log', async () => {
    const browser = owner;
    const max = await userId('max@springfield.test');
    for (let i = 0; i < 30; i += 1) await postForm(browser, `/admin/orgs/springfield/members/${max}/role`, { role: i % 2 === 0 ? 'owner' : 'member' });
    const first = await browser.visit('/admin/orgs/springfield/audit');
    const [, pages, total] = /Page 1 of (\d+) \((\d+) events\)/.exec(first.html)!.map(Number);
    expect(total).toBeGreaterThan(25);
    expect(pages).toBe(Math.ceil(total! / 25));
    // A full first page.
    expect([...first.html.matchAll(/<tr><td data-label="When"><time datetime="\d{4}-/g)]).toHaveLength(25);
    expect(first.html).toMatch(/rel="next">Older</);
    // Sentences, not codes: the raw action stays in the JSON API.
    expect(first.html).toMatch(/max@springfield\.test was made an owner\./);
    expect(first.html).not.toMatch(/member\.role_changed/);
    // No secret material in the log.
    expect(first.html).not.toMatch(/\$argon2|sealed|v1\./);
    const last = await browser.visit(`/admin/orgs/springfield/audit?page=${pages}`);
    expect(last.html).toMatch(new RegExp(`Page ${pages} of ${pages}`));
    expect(last.html).not.toMatch(/rel="next"/);
    expect([...last.html.matchAll(/<tr><td data-label="When"><time datetime="\d{4}-/g)]).toHaveLength(total! - 25 * (pages! - 1));
    const notAPage = await browser.visit('/admin/orgs/springfield/audit?page=abc');
    expect(notAPage.status).toBe(400);
    expect(notAPage.html).toMatch(/The page number must be a whole number from 1 to 100000\./);
  });

  it('offers the same actions as a JSON API', async () => {
    const token = ownerToken;
    const nina = await userId('nina@springfield.test');
    expect((await callApi(url(), token, 'GET', '/admin/api/organizations')).json).toStrictEqual({
      organizations: [{ slug: 'springfield', name: 'City of Springfield', forceTwoFactor: true }],
    });
    expect((await callApi(url(), token, 'PUT', '/admin/api/organizations/springfield/policy', { forceTwoFactor: true })).json).toStrictEqual({
      forceTwoFactor: true,
      membersNotified: 0,
      gracePeriodDays: 0,
      rememberBrowserDays: 0,
      applyTo: 'all',
      requiredFactor: 'any',
      confirmSetupByEmail: true,
      enforcementStartedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      keysRequiredSince: null,
    });
    const members = (await callApi(url(), token, 'GET', '/admin/api/organizations/springfield/members')).json.members as Array<{ email: string; twoFactor: { enrolled: boolean } }>;
    expect(members.find((member) => member.email === 'nina@springfield.test')?.twoFactor.enrolled).toBe(true);
    const without = (await callApi(url(), token, 'GET', '/admin/api/organizations/springfield/members?twoFactor=none')).json.members as Array<{ twoFactor: { enrolled: boolean } }>;
    expect(without.length).toBeGreaterThan(0);
    expect(without.filter((member) => member.twoFactor.enrolled)).toStrictEqual([]);

    const created = await callApi(url(), token, 'POST', '/admin/api/organizations/springfield/members', { email: 'api-added@springfield.test', role: 'member' });
    expect(created.status).toBe(201);
    expect(created.json.invited).toBe(true);
    const role = await callApi(url(), token, 'PUT', `/admin/api/organizations/springfield/members/${created.json.userId}/role`, { role: 'owner' });
    expect(role.json).toStrictEqual({ userId: created.json.userId, role: 'owner' });
    expect((await callApi(url(), token, 'DELETE', `/admin/api/organizations/springfield/members/${created.json.userId}`)).status).toBe(200);
    const disabled = await callApi(url(), token, 'POST', `/admin/api/organizations/springfield/members/${nina}/disable-2fa`, { reason: 'API test' });
    expect(disabled.json).toStrictEqual({ userId: nina, twoFactor: { enrolled: false } });
    const twice = await callApi(url(), token, 'POST', `/admin/api/organizations/springfield/members/${nina}/disable-2fa`, {});
    expect(twice.status).toBe(409);
    expect(twice.json.error).toBe('conflict');
    const audit = await callApi(url(), token, 'GET', '/admin/api/organizations/springfield/audit');
    expect((audit.json.events as Array<{ action: string }>)[0]?.action).toBe('two_factor.reset_by_admin');
  });

  it('answers bad input to every admin form and API body with a 4xx sentence and no change', async () => {
    const token = ownerToken;
    const browser = owner;
    const max = await userId('max@springfield.test');
    const before = JSON.stringify(await store().memberships.listByOrganization((await store().organizations.findBySlug('springfield'))!.id));
    const forms: Array<[string, Record<string, string>]> = [
      ['/admin/orgs/springfield/settings', { forceTwoFactor: 'maybe' }],
      ['/admin/orgs/springfield/members', { email: 'not an email', role: 'member' }],
      ['/admin/orgs/springfield/members', { email: 'x@y.test', role: 'emperor' }],
      ['/admin/orgs/springfield/members', { email: '', role: '' }],
      [`/admin/orgs/springfield/members/${max}/role`, { role: 'root' }],
      ['/admin/orgs/springfield/members/no-such-user/remove', {}],
      ['/admin/orgs/nope/settings', { forceTwoFactor: 'on' }],
      ['/admin/site', { mode: 'sometimes' }],
    ];
    for (const [path, fields] of forms) {
      const page = await postForm(browser, path, fields);
      expect([path, fields, page.status]).toStrictEqual([path, fields, expect.toBeWithinRange(400, 499)]);
      expect(page.html).toMatch(/role="alert"/);
    }
    const bodies: Array<[string, string, unknown, number]> = [
      ['PUT', '/admin/api/organizations/springfield/policy', { forceTwoFactor: 'yes' }, 400],
      ['PUT', '/admin/api/organizations/springfield/policy', '{not json', 400],
      ['PUT', '/admin/api/organizations/springfield/policy', '[]', 400],
      ['POST', '/admin/api/organizations/springfield/members', { email: 42 }, 400],
      ['POST', '/admin/api/organizations/springfield/members', { email: 'bad' }, 400],
      ['POST', '/admin/api/organizations/springfield/members', { email: 'ok@x.test', role: 'god' }, 400],
      ['PUT', `/admin/api/organizations/springfield/members/${max}/role`, {}, 400],
      ['DELETE', '/admin/api/organizations/springfield/members/unknown', undefined, 404],
      ['GET', '/admin/api/organizations/nope/members', undefined, 404],
      ['GET', '/admin/api/nothing-here', undefined, 404],
      ['PATCH', '/admin/api/organizations/springfield/policy', { forceTwoFactor: true }, 404],
    ];
    for (const [method, path, body, status] of bodies) {
      const response = await callApi(url(), token, method, path, body);
      expect([method, path, body, response.status]).toStrictEqual([method, path, body, status]);
      expect(typeof response.json.error).toBe('string');
      // A sentence.
      expect(String(response.json.error_description)).toMatch(/\.$/);
    }
    const text = await fetch(new URL('/admin/api/organizations/springfield/policy', url()), { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    // Nothing changed.
    expect(JSON.stringify(await store().memberships.listByOrganization((await store().organizations.findBySlug('springfield'))!.id))).toBe(before);
  });
});
