import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminApiToken, adminBrowser, callApi, postForm } from '../support/admin.js';
import { Browser, formAction } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, setupKeyOf } from '../support/second-factor.js';

describe('organization administration (/admin and /admin/api)', () => {
  let fixture: Fixture;
  // Signed in once, before the organization forces 2FA: once it does, every new sign-in of its owner
  // needs her second factor too, as it should.
  let owner: Browser;
  let siteAdmin: Browser;
  let ownerToken: string;
  const url = () => fixture.twofold.url;
  const store = () => fixture.twofold.app.store;
  const auditActions = async (slug: string | null) => {
    const organization = slug ? await store().organizations.findBySlug(slug) : null;
    return (await store().audit.list(organization?.id ?? null, { limit: 100, offset: 0 })).events.map((event) => event.action);
  };
  const userId = async (email: string) => (await store().users.findByEmail(email))!.id;

  before(async () => {
    fixture = await startFixture();
    const { directory } = fixture.twofold.app;
    await directory.createOrganization('springfield', 'City of Springfield');
    await directory.createUser({ email: 'olivia@springfield.test', name: 'Olivia Owner', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'owner' }] });
    await directory.createUser({ email: 'max@springfield.test', name: 'Max Member', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'member' }] });
    await directory.createUser({ email: 'nina@springfield.test', name: 'Nina', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'member' }] });
    await directory.createUser({ email: 'root@site.test', name: 'Site Admin', password: PASSWORD, siteAdmin: true });
    owner = (await adminBrowser(url(), 'olivia@springfield.test', PASSWORD)).browser;
    siteAdmin = (await adminBrowser(url(), 'root@site.test', PASSWORD)).browser;
    ownerToken = await adminApiToken(url(), fixture.rp, 'olivia@springfield.test', PASSWORD);
  });
  after(() => fixture.close());

  it('follows seed 000 literally: Settings › Security › Force Two-Factor Authentication › Save', async () => {
    const browser = owner;
    const page = await browser.visit('/admin');
    assert.match(page.html, /City of Springfield/);
    const settings = await browser.visit('/admin/orgs/springfield/settings');
    assert.match(settings.html, /<h2 id="security-heading">Security<\/h2>/);
    assert.match(settings.html, /<input id="forceTwoFactor" type="checkbox" name="forceTwoFactor" value="on"[^>]*>\s*<label for="forceTwoFactor">Force Two-Factor Authentication<\/label>/);
    assert.match(settings.html, /<button class="primary" type="submit">Save<\/button>/);
    assert.match(settings.html, /3 members have not set up two-factor authentication yet/);
    assert.match(settings.html, /max@springfield\.test/);

    const saved = await browser.submit(settings, formAction(settings.html, '/settings'), { forceTwoFactor: 'on' });
    assert.match(saved.html, /Saved\./);
    assert.match(saved.html, /We e-mailed 3 members/);
    assert.match(saved.html, /id="forceTwoFactor"[^>]*checked/);
    await fixture.smtp.waitFor('max@springfield.test', /Your organization now requires two-factor authentication/);
    assert.ok((await auditActions('springfield')).includes('policy.changed'));

    const member = await signInWithPassword(new Browser(url()), await startSignIn(fixture.rp), 'max@springfield.test', PASSWORD);
    assert.match(member.html, /Set up two-factor authentication/, 'step 5: the member is prompted at the next sign-in');
    const ownerAgain = await signInWithPassword(new Browser(url()), await startSignIn(fixture.rp), 'olivia@springfield.test', PASSWORD);
    assert.match(ownerAgain.html, /Set up two-factor authentication/, 'the owner too, at her next sign-in');
  });

  it('lists members with their 2FA status, filters those without, and keeps at least one owner', async () => {
    const browser = owner;
    const nina = new Browser(url());
    await completeSetup(nina, await signInWithPassword(nina, await startSignIn(fixture.rp), 'nina@springfield.test', PASSWORD));

    const members = await browser.visit('/admin/orgs/springfield/members');
    assert.match(members.html, /nina@springfield\.test<\/span><\/td><td>Member<\/td><td><span class="status-on">Enrolled<\/span>/);
    assert.match(members.html, /max@springfield\.test<\/span><\/td><td>Member<\/td><td><span class="status-off">Not yet<\/span>/);
    assert.match(members.html, /aria-label="Disable 2FA for nina@springfield\.test">Disable 2FA</);
    const filtered = await browser.visit('/admin/orgs/springfield/members?filter=without-2fa');
    assert.doesNotMatch(filtered.html, /nina@springfield\.test/);
    assert.match(filtered.html, /max@springfield\.test/);

    await fixture.twofold.app.directory.createUser({ email: 'staff-admin@springfield.test', password: PASSWORD, siteAdmin: true, orgs: [{ slug: 'springfield', role: 'member' }] });
    const staffAdmin = await userId('staff-admin@springfield.test');
    await store().secondFactors.enable({ userId: staffAdmin, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
    const weaken = await postForm(browser, `/admin/orgs/springfield/members/${staffAdmin}/disable-2fa`);
    assert.equal(weaken.status, 403, "an owner cannot disable a site admin's 2FA");
    assert.ok(await store().secondFactors.find(staffAdmin));
    await store().memberships.remove((await store().organizations.findBySlug('springfield'))!.id, staffAdmin);

    const lastOwner = await postForm(browser, `/admin/orgs/springfield/members/${await userId('olivia@springfield.test')}/remove`);
    assert.equal(lastOwner.status, 409);
    assert.match(lastOwner.html, /is the last owner of City of Springfield/);
    const demote = await postForm(browser, `/admin/orgs/springfield/members/${await userId('olivia@springfield.test')}/role`, { role: 'member' });
    assert.equal(demote.status, 409);

    const promoted = await postForm(browser, `/admin/orgs/springfield/members/${await userId('max@springfield.test')}/role`, { role: 'owner' });
    assert.match(promoted.html, /The role was changed\./);
    const demoted = await postForm(browser, `/admin/orgs/springfield/members/${await userId('max@springfield.test')}/role`, { role: 'member' });
    assert.match(demoted.html, /The role was changed\./);
    const actions = await auditActions('springfield');
    assert.equal(actions.filter((action) => action === 'member.role_changed').length, 2);
    assert.ok(actions.includes('two_factor.enabled'), 'the member enabling 2FA is in the organization log');
  });

  it('adds an existing user, and invites a new one who sets a password from the e-mail', async () => {
    const browser = owner;
    await fixture.twofold.app.directory.createUser({ email: 'existing@elsewhere.test', password: PASSWORD });
    const added = await postForm(browser, '/admin/orgs/springfield/members', { email: 'Existing@Elsewhere.test', role: 'member' });
    assert.match(added.html, /The member was added\./);
    const again = await postForm(browser, '/admin/orgs/springfield/members', { email: 'existing@elsewhere.test', role: 'member' });
    assert.equal(again.status, 409);
    assert.match(again.html, /is already a member of City of Springfield/);

    const invited = await postForm(browser, '/admin/orgs/springfield/members', { email: 'newhire@springfield.test', role: 'member', name: 'New Hire' });
    assert.match(invited.html, /e-mailed an invitation/);
    const mail = await fixture.smtp.waitFor('newhire@springfield.test', /You have been invited/);
    const link = /(http:\/\/[^\s)]+\/invitation\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const person = new Browser(url());
    const form = await person.visit(link);
    assert.match(form.html, /Set your password/);
    const mismatch = await person.submit(form, formAction(form.html, new URL(link).pathname), { password: 'new hire password', confirm: 'different' });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.html, /The two passwords are not the same\./);
    const done = await person.submit(form, formAction(form.html, new URL(link).pathname), { password: 'new hire password', confirm: 'new hire password' });
    assert.match(done.html, /Your password is set/);
    assert.equal((await person.visit(link)).status, 410, 'the link works once');
    const signedIn = await signInWithPassword(new Browser(url()), await startSignIn(fixture.rp), 'newhire@springfield.test', 'new hire password');
    assert.match(signedIn.html, /Set up two-factor authentication/, 'the organization forces 2FA, so the new member sets it up');
    const actions = await auditActions('springfield');
    assert.ok(actions.includes('member.added') && actions.includes('member.invited'));

    const removed = await postForm(browser, `/admin/orgs/springfield/members/${await userId('existing@elsewhere.test')}/remove`);
    assert.match(removed.html, /The member was removed\./);
    assert.ok((await auditActions('springfield')).includes('member.removed'));
  });

  it('disables a member\'s 2FA after a lost device (seed 003): sessions end, the member is e-mailed, and must scan a new QR code', async () => {
    const email = 'lost@springfield.test';
    await fixture.twofold.app.directory.createUser({ email, name: 'Lou Lost', password: PASSWORD, orgs: [{ slug: 'springfield', role: 'member' }] });
    const device = new Browser(url());
    const { secret: oldSecret } = await completeSetup(device, await signInWithPassword(device, await startSignIn(fixture.rp), email, PASSWORD));

    const browser = owner;
    const confirm = await browser.visit(`/admin/orgs/springfield/members/${await userId(email)}/disable-2fa`);
    assert.match(confirm.html, /Disable 2FA for lost@springfield\.test\?/);
    assert.match(confirm.html, /signed out of every session/);
    const done = await browser.submit(confirm, formAction(confirm.html, '/disable-2fa'), { reason: 'Lost phone, confirmed by phone call' });
    assert.match(done.html, /Two-factor authentication was disabled\./);
    assert.match(done.html, /lost@springfield\.test<\/span><\/td><td>Member<\/td><td><span class="status-off">Not yet/);

    const mail = await fixture.smtp.waitFor(email, /Two-factor authentication was turned off/);
    assert.match(mail.text, /Olivia Owner \(olivia@springfield\.test\) turned off two-factor authentication/);
    assert.match(mail.text, /Lost phone, confirmed by phone call/);
    const silent = await device.visit((await startSignIn(fixture.rp, { prompt: 'none' })).url.href);
    assert.equal(new URL(silent.url).searchParams.get('error'), 'login_required', 'the member was signed out everywhere');

    const memberBrowser = new Browser(url());
    const next = await signInWithPassword(memberBrowser, await startSignIn(fixture.rp), email, PASSWORD);
    assert.match(next.html, /Set up two-factor authentication/);
    assert.notEqual(setupKeyOf(next.html), oldSecret, 'a new QR code, a new secret');
    const oldDevice = await memberBrowser.submit(next, formAction(next.html, '/setup'), { token: await codeAt(oldSecret, 1) });
    assert.equal(oldDevice.status, 400, "the old device's codes do not work");
    const [event] = (await store().audit.list((await store().organizations.findBySlug('springfield'))!.id, { limit: 1, offset: 0 })).events;
    assert.equal(event?.action, 'two_factor.reset_by_admin');
    assert.equal(event?.actorEmail, 'olivia@springfield.test');
    assert.equal(event?.targetEmail, email);
    assert.equal(event?.details.reason, 'Lost phone, confirmed by phone call');
    assert.ok(event?.ip);
  });

  it('lets a site admin set the site-wide mode and disable anyone\'s 2FA from their profile', async () => {
    await fixture.twofold.app.directory.createUser({ email: 'loner@nowhere.test', password: PASSWORD });
    const browser = siteAdmin;
    const site = await browser.visit('/admin/site');
    assert.match(site.html, /<input type="radio" id="mode-optional" name="mode" value="optional" checked>/);
    const saved = await browser.submit(site, formAction(site.html, '/admin/site'), { mode: 'required' });
    assert.match(saved.html, /The site-wide mode was saved\./);
    assert.ok((await auditActions(null)).includes('site.two_factor_mode_changed'));

    const loner = new Browser(url());
    const setup = await signInWithPassword(loner, await startSignIn(fixture.rp), 'loner@nowhere.test', PASSWORD);
    assert.match(setup.html, /Set up two-factor authentication/, 'site mode required applies to users in no organization');
    const { secret } = await completeSetup(loner, setup);

    const found = await browser.visit('/admin/site?q=loner');
    const profileLink = /href="(\/admin\/site\/users\/[^"]+)">loner@nowhere\.test</.exec(found.html)![1]!;
    const profile = await browser.visit(profileLink);
    assert.match(profile.html, /Enrolled/);
    const confirm = await browser.visit(`${profileLink}/disable-2fa`);
    const done = await browser.submit(confirm, formAction(confirm.html, '/disable-2fa'), { reason: '' });
    assert.match(done.html, /Two-factor authentication was disabled/);
    assert.match(done.html, /Not set up/);
    assert.ok((await auditActions(null)).includes('two_factor.reset_by_admin'), 'a user in no organization is audited in the site log');

    const lonerAgain = new Browser(url());
    const again = await signInWithPassword(lonerAgain, await startSignIn(fixture.rp), 'loner@nowhere.test', PASSWORD);
    assert.match(again.html, /Set up two-factor authentication/);
    const oldDevice = await lonerAgain.submit(again, formAction(again.html, '/setup'), { token: await codeAt(secret, 1) });
    assert.equal(oldDevice.status, 400, "the old device's code does not activate the new QR code");
    assert.doesNotMatch(oldDevice.url, new RegExp(REDIRECT_URI));
    await store().settings.set('site.two_factor_mode', 'optional');
  });

  it('pages the audit log', async () => {
    const browser = owner;
    const max = await userId('max@springfield.test');
    for (let i = 0; i < 30; i += 1) await postForm(browser, `/admin/orgs/springfield/members/${max}/role`, { role: i % 2 === 0 ? 'owner' : 'member' });
    const first = await browser.visit('/admin/orgs/springfield/audit');
    const [, pages, total] = /Page 1 of (\d+) \((\d+) events\)/.exec(first.html)!.map(Number);
    assert.ok(total! > 25 && pages === Math.ceil(total! / 25), `${total} events on ${pages} pages`);
    assert.equal([...first.html.matchAll(/<tr><td>\d{4}-/g)].length, 25, 'a full first page');
    assert.match(first.html, /rel="next">Older</);
    assert.match(first.html, /member\.role_changed/);
    assert.doesNotMatch(first.html, /\$argon2|sealed|v1\./, 'no secret material in the log');
    const last = await browser.visit(`/admin/orgs/springfield/audit?page=${pages}`);
    assert.match(last.html, new RegExp(`Page ${pages} of ${pages}`));
    assert.doesNotMatch(last.html, /rel="next"/);
    assert.equal([...last.html.matchAll(/<tr><td>\d{4}-/g)].length, total! - 25 * (pages! - 1));
    assert.match((await browser.visit('/admin/orgs/springfield/audit?page=abc')).html, /Page 1 of /);
  });

  it('offers the same actions as a JSON API', async () => {
    const token = ownerToken;
    const nina = await userId('nina@springfield.test');
    assert.deepEqual((await callApi(url(), token, 'GET', '/admin/api/organizations')).json, {
      organizations: [{ slug: 'springfield', name: 'City of Springfield', forceTwoFactor: true }],
    });
    assert.deepEqual((await callApi(url(), token, 'PUT', '/admin/api/organizations/springfield/policy', { forceTwoFactor: true })).json, { forceTwoFactor: true, membersNotified: 0 });
    const members = (await callApi(url(), token, 'GET', '/admin/api/organizations/springfield/members')).json.members as Array<{ email: string; twoFactor: { enrolled: boolean } }>;
    assert.equal(members.find((member) => member.email === 'nina@springfield.test')?.twoFactor.enrolled, true);
    const without = (await callApi(url(), token, 'GET', '/admin/api/organizations/springfield/members?twoFactor=none')).json.members as Array<{ twoFactor: { enrolled: boolean } }>;
    assert.ok(without.length > 0 && without.every((member) => !member.twoFactor.enrolled));

    const created = await callApi(url(), token, 'POST', '/admin/api/organizations/springfield/members', { email: 'api-added@springfield.test', role: 'member' });
    assert.equal(created.status, 201);
    assert.equal(created.json.invited, true);
    const role = await callApi(url(), token, 'PUT', `/admin/api/organizations/springfield/members/${created.json.userId}/role`, { role: 'owner' });
    assert.deepEqual(role.json, { userId: created.json.userId, role: 'owner' });
    assert.equal((await callApi(url(), token, 'DELETE', `/admin/api/organizations/springfield/members/${created.json.userId}`)).status, 200);
    const disabled = await callApi(url(), token, 'POST', `/admin/api/organizations/springfield/members/${nina}/disable-2fa`, { reason: 'API test' });
    assert.deepEqual(disabled.json, { userId: nina, twoFactor: { enrolled: false } });
    const twice = await callApi(url(), token, 'POST', `/admin/api/organizations/springfield/members/${nina}/disable-2fa`, {});
    assert.equal(twice.status, 409);
    assert.equal(twice.json.error, 'conflict');
    const audit = await callApi(url(), token, 'GET', '/admin/api/organizations/springfield/audit');
    assert.equal((audit.json.events as Array<{ action: string }>)[0]?.action, 'two_factor.reset_by_admin');
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
      assert.ok(page.status >= 400 && page.status < 500, `${path} ${JSON.stringify(fields)}: ${page.status}`);
      assert.match(page.html, /role="alert"/);
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
      assert.equal(response.status, status, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(typeof response.json.error, 'string');
      assert.match(String(response.json.error_description), /\.$/, 'a sentence');
    }
    const text = await fetch(new URL('/admin/api/organizations/springfield/policy', url()), { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(text.status, 415);
    assert.equal(JSON.stringify(await store().memberships.listByOrganization((await store().organizations.findBySlug('springfield'))!.id)), before, 'nothing changed');
  });
});
