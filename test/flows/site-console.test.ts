import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { adminBrowser, postForm } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, startSignIn } from '../support/relying-party.js';
import { reportSkip } from '../support/skips.js';
import { writeInDatabase } from '../support/twofold.js';

/** The OAuth error code openid-client rejected with. */
const oauthErrorOf = async (request: Promise<unknown>): Promise<string> => {
  try {
    await request;
  } catch (caught) {
    const error = caught as { error?: string; cause?: { error?: string } | Array<{ parameters?: { error?: string } }> };
    const fromChallenge = Array.isArray(error.cause) ? error.cause[0]?.parameters?.error : error.cause?.error;
    return error.error ?? fromChallenge ?? String(error);
  }
  return 'none: the request succeeded';
};

const HOUR_MS = 60 * 60 * 1000;

/** What the page after registering or rotating shows, this once. */
function shownCredentials(page: Page): { clientId: string; secret: string } {
  const clientId = /<dt>Client ID<\/dt><dd><code>([^<]+)<\/code>/.exec(page.html)?.[1];
  const secret = /<code class="secret">([^<]+)<\/code>/.exec(page.html)?.[1];
  if (!clientId || !secret) throw new Error(`no credentials on the page (${page.status}): ${page.html.slice(0, 600)}`);
  return { clientId, secret };
}

/** The sentence shown right under a field, tied to it by aria-describedby. */
function errorOf(page: Page, id: string): string | undefined {
  const field = new RegExp(`id="${id}"[^>]*aria-invalid="true"[^>]*aria-describedby="[^"]*${id}-error`).test(page.html);
  const sentence = new RegExp(`<p class="field-error" id="${id}-error" role="alert">([^<]+)</p>`).exec(page.html)?.[1];
  return field ? sentence?.replaceAll('&quot;', '"').replaceAll('&#39;', "'") : undefined;
}

describe('the site admins\' console (/admin/site): organizations, applications and users from the web', () => {
  let fixture: Fixture;
  let admin: Browser;
  const url = () => fixture.twofold.url;
  const store = () => fixture.twofold.store;
  const onSqlite = () => store().kind === 'sqlite';
  const inDatabase = (statement: string, ...params: unknown[]) => writeInDatabase(fixture.twofold, statement, ...params);
  /** A sign-in of ada@city.test at the application, with offline access: its tokens. */
  const signInAt = async (rp: oidc.Configuration) => {
    const pending = await startSignIn(rp, { scope: 'openid email offline_access', prompt: 'consent' });
    return exchangeCode(rp, await signInAndAllow(new Browser(url()), pending, 'ada@city.test', PASSWORD), pending);
  };
  const register = async (fields: Record<string, string>) => postForm(admin, '/admin/site/applications', {
    name: 'Permits portal', redirectUris: REDIRECT_URI, postLogoutRedirectUris: '', backchannelLogoutUri: '', kind: 'confidential', firstParty: 'on', ...fields,
  });

  beforeAll(async () => {
    fixture = await startFixture();
    await fixture.twofold.app.users.create(OPERATOR, { email: 'root@site.test', password: PASSWORD, siteAdmin: true });
    await fixture.twofold.app.users.create(OPERATOR, { email: 'ada@city.test', name: 'Ada Lovelace', password: PASSWORD, orgs: [{ slug: 'county', role: 'member' }] });
    ({ browser: admin } = await adminBrowser(url(), 'root@site.test', PASSWORD));
  });
  afterAll(() => fixture.close());

  it('shows the three sections on /admin/site, with the organizations\' members, Force 2FA and adoption', async () => {
    const site = await admin.visit('/admin/site');
    expect(site.status).toBe(200);
    for (const heading of ['Organizations', 'Applications', 'Users']) expect(site.html).toContain(`<h2 id="${heading.toLowerCase()}-heading">${heading}</h2>`);
    for (const button of ['Create organization', 'Register application']) expect(site.html).toContain(`<button class="primary" type="submit">${button}</button>`);
    // "city" forces 2FA and has no members yet; county has Ada, without a second factor.
    expect(site.html).toMatch(/<a href="\/admin\/orgs\/city\/settings">City<\/a>[\s\S]*?<td data-label="Members">0 \(0 owners\)<\/td><td data-label="Force 2FA">On<\/td><td data-label="Adoption">0 of 0 members \(0%\)<\/td>/);
    expect(site.html).toMatch(/<a href="\/admin\/orgs\/county\/settings">County<\/a>[\s\S]*?<td data-label="Members">1 \(0 owners\)<\/td><td data-label="Force 2FA">Off<\/td><td data-label="Adoption">0 of 1 members \(0%\)<\/td>/);
    // The fixture's public client is listed, with the way to delete it and no secret to rotate.
    expect(site.html).toMatch(/<code>app<\/code><\/td><td data-label="Kind">Public, first-party/);
    expect(site.html).toContain('href="/admin/site/applications/app/delete"');
    expect(site.html).not.toContain('href="/admin/site/applications/app/rotate-secret"');
  });

  it('creates an organization whose new first owner is e-mailed a single-use link, sets a password and signs in to manage it', async () => {
    const created = await postForm(admin, '/admin/site/organizations', { name: 'Parks Department', slug: 'parks', ownerEmail: 'Paula@Parks.test' });
    expect(created.status).toBe(200);
    expect(created.url).toMatch(/\/admin\/site\?done=organization-created-owner#organizations$/);
    expect(created.html).toMatch(/Its first owner was e-mailed a link to set a password/);
    const parks = (await store().organizations.findBySlug('parks'))!;
    expect(parks.name).toBe('Parks Department');
    const paula = (await store().users.findByEmail('paula@parks.test'))!;
    expect((await store().memberships.find(parks.id, paula.id))?.role).toBe('owner');

    const mail = await fixture.smtp.waitFor('paula@parks.test', /You have been invited/);
    expect(mail.text).toMatch(/added you \(paula@parks\.test\) to Parks Department/);
    const link = /(http:\/\/[^\s)]+\/invitation\/[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const person = new Browser(url());
    const form = await person.visit(link);
    const done = await person.submit(form, formAction(form.html, new URL(link).pathname), { password: 'paula parks password', confirm: 'paula parks password' });
    expect(done.html).toMatch(/Your password is set/);
    expect((await person.visit(link)).status).toBe(410);

    const { browser: paulaAdmin } = await adminBrowser(url(), 'paula@parks.test', 'paula parks password');
    const settings = await paulaAdmin.visit('/admin/orgs/parks/settings');
    expect(settings.status).toBe(200);
    expect(settings.html).toMatch(/Parks Department/);
    // An owner is no site admin: the console stays closed to her.
    expect((await paulaAdmin.visit('/admin/site')).status).toBe(403);

    const events = (await store().audit.list(null, { limit: 50, offset: 0 })).events;
    expect(events.find((event) => event.action === 'organization.created' && event.details.slug === 'parks')?.actorEmail).toBe('root@site.test');
    expect((await store().audit.list(parks.id, { limit: 50, offset: 0 })).events.map((event) => event.action)).toStrictEqual(expect.arrayContaining(['organization.created', 'member.invited', 'account.password_set']));
  });

  it('invites an existing account as the first owner: it becomes owner only by accepting, signed in', async () => {
    const created = await postForm(admin, '/admin/site/organizations', { name: 'Libraries', slug: 'libraries', ownerEmail: 'ada@city.test' });
    expect(created.html).toMatch(/Its first owner already has an account, so they were e-mailed an invitation/);
    const libraries = (await store().organizations.findBySlug('libraries'))!;
    const ada = (await store().users.findByEmail('ada@city.test'))!;
    expect(await store().memberships.find(libraries.id, ada.id)).toBeNull();
    const invitation = await fixture.smtp.waitFor('ada@city.test', /You have been invited to join an organization/);
    expect(invitation.text).toMatch(/invited you \(ada@city\.test\) to join Libraries as an owner/);

    const browser = new Browser(url());
    const signIn = await browser.visit(new URL(/(http:\/\/[^\s)]+\/account\/invitations)/.exec(invitation.text)![1]!).pathname);
    const account = await browser.submit(signIn, formAction(signIn.html, '/login'), { email: 'ada@city.test', password: PASSWORD });
    await browser.submit(account, formAction(account.html, '/accept'), {});
    expect((await store().memberships.find(libraries.id, ada.id))?.role).toBe('owner');
  });

  it('refuses a taken slug, a bad slug, a 300-character name and a bad e-mail with a sentence next to the field, creating nothing', async () => {
    const before = (await store().organizations.list()).length;
    const cases: Array<[Record<string, string>, string, number, RegExp]> = [
      [{ name: 'Another City', slug: 'city' }, 'organization-slug', 409, /^An organization with the slug "city" already exists\.$/],
      [{ name: 'Bad', slug: 'Not A Slug' }, 'organization-slug', 400, /is not a valid organization slug/],
      [{ name: 'x'.repeat(300), slug: 'long-name' }, 'organization-name', 400, /^The organization name must be 1 to 200 characters\.$/],
      [{ name: 'Fine', slug: 'fine', ownerEmail: 'not an email' }, 'organization-owner', 400, /^"not an email" is not a valid email address\.$/],
    ];
    for (const [fields, id, status, sentence] of cases) {
      const page = await postForm(admin, '/admin/site/organizations', fields);
      expect([fields.slug, page.status, errorOf(page, id)]).toStrictEqual([fields.slug, status, expect.stringMatching(sentence)]);
      // What was typed stays in the form.
      expect(page.html).toContain(`value="${fields.slug}"`);
    }
    expect((await store().organizations.list()).length).toBe(before);
  });

  it('registers a confidential application: the secret is shown once on a page nobody caches, sealed at rest, and signs a relying party in', async () => {
    const shown = await register({ backchannelLogoutUri: 'https://rp.example.test/backchannel-logout' });
    expect(shown.status).toBe(200);
    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect(shown.html).toMatch(/Copy this client secret now: it is shown only once/);
    const { clientId, secret } = shownCredentials(shown);
    expect(clientId).toMatch(/^permits-portal-[0-9a-f]{8}$/);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = (await store().clients.find(clientId))!;
    expect(stored.sealedSecret).not.toContain(secret);
    expect(stored.backchannelLogoutUri).toBe('https://rp.example.test/backchannel-logout');
    // oidc-provider sees the back-channel logout URI as the application's metadata.
    expect((await fixture.twofold.app.provider.Client.find(clientId))?.backchannelLogoutUri).toBe('https://rp.example.test/backchannel-logout');
    // The list shows it, never the secret.
    const site = await admin.visit('/admin/site');
    expect(site.html).toContain(`<code>${clientId}</code>`);
    expect(site.html).not.toContain(secret);

    const rp = await discover(url(), clientId, secret);
    const tokens = await signInAt(rp);
    expect(tokens.claims()!.email).toBe('ada@city.test');
    expect(await oauthErrorOf(signInAt(await discover(url(), clientId, `${secret}x`)))).toBe('invalid_client');
    const registered = (await store().audit.list(null, { limit: 50, offset: 0 })).events.find((event) => event.action === 'client.registered' && event.details.clientId === clientId);
    expect(registered?.details).toMatchObject({ confidential: true, firstParty: true });
    expect(JSON.stringify(registered)).not.toContain(secret);
  });

  it('rotates a secret: the old one works during the grace period chosen, and is refused after it', async () => {
    const { clientId, secret: first } = shownCredentials(await register({}));
    const withFirst = await discover(url(), clientId, first);
    const { refresh_token: refreshToken } = await signInAt(withFirst);

    const confirm = await admin.visit(`/admin/site/applications/${clientId}/rotate-secret`);
    expect(confirm.html).toMatch(/Keep the old secret working for \(hours\)/);
    const rotated = await admin.submit(confirm, formAction(confirm.html, '/rotate-secret'), { graceHours: '2' });
    expect(rotated.headers.get('cache-control')).toBe('no-store');
    expect(rotated.html).toMatch(/The old secret keeps working until/);
    const { secret: second } = shownCredentials(rotated);
    expect(second).not.toBe(first);
    const withSecond = await discover(url(), clientId, second);

    // During the grace period both work, at the token endpoint and for a new sign-in.
    expect((await oidc.refreshTokenGrant(withFirst, refreshToken!)).access_token).toBeTruthy();
    expect((await signInAt(withFirst)).access_token).toBeTruthy();
    const { refresh_token: secondRefresh } = await signInAt(withSecond);

    if (!onSqlite()) return reportSkip('rotated secret after its grace period', 'the grace period is ended by moving its time in the embedded SQLite database');
    inDatabase('UPDATE clients SET previous_secret_expires_at = ? WHERE client_id = ?', Date.now() - 1000, clientId);
    expect(await oauthErrorOf(oidc.refreshTokenGrant(withFirst, secondRefresh!))).toBe('invalid_client');
    expect(await oauthErrorOf(signInAt(withFirst))).toBe('invalid_client');
    expect((await oidc.refreshTokenGrant(withSecond, secondRefresh!)).access_token).toBeTruthy();
    expect(fixture.twofold.logLines.filter((line) => line.includes(first) || line.includes(second))).toStrictEqual([]);
  });

  it('rotates with no grace period by default: the old secret stops at once', async () => {
    const { clientId, secret: first } = shownCredentials(await register({}));
    const rotated = await postForm(admin, `/admin/site/applications/${clientId}/rotate-secret`, { graceHours: '' });
    expect(rotated.html).toMatch(/The old secret no longer works\./);
    const { secret: second } = shownCredentials(rotated);
    expect(await oauthErrorOf(signInAt(await discover(url(), clientId, first)))).toBe('invalid_client');
    expect((await signInAt(await discover(url(), clientId, second))).access_token).toBeTruthy();
    const refused = await postForm(admin, `/admin/site/applications/${clientId}/rotate-secret`, { graceHours: '1000' });
    expect([refused.status, errorOf(refused, 'graceHours')]).toStrictEqual([400, 'The old secret can keep working for a whole number of hours from 0 to 168.']);
    expect((await store().clients.find(clientId))?.previousSealedSecret).toBeNull();
  });

  it('deletes an application: its refresh token is refused, and everything issued to it is gone from the store', async () => {
    const { clientId, secret } = shownCredentials(await register({}));
    const rp = await discover(url(), clientId, secret);
    const tokens = await signInAt(rp);
    expect(tokens.refresh_token).toBeTruthy();
    const confirm = await admin.visit(`/admin/site/applications/${clientId}/delete`);
    expect(confirm.html).toMatch(/Everything Twofold issued to it is revoked at once/);
    const deleted = await admin.submit(confirm, formAction(confirm.html, '/delete'), {});
    expect(deleted.html).toMatch(/The application was deleted\./);
    expect(await store().clients.find(clientId)).toBeNull();
    expect(await oauthErrorOf(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_client');

    // Registered again under the same id, with its own secret, the old refresh token still opens nothing.
    const again = await fixture.twofold.app.clients.create(OPERATOR, { clientId, redirectUris: [REDIRECT_URI], secret: 'a fresh secret of at least thirty-two chars', firstParty: true });
    expect(again.client.clientId).toBe(clientId);
    expect(await oauthErrorOf(oidc.refreshTokenGrant(await discover(url(), clientId, 'a fresh secret of at least thirty-two chars'), tokens.refresh_token!))).toBe('invalid_grant');
    const audit = (await store().audit.list(null, { limit: 50, offset: 0 })).events.find((event) => event.action === 'client.deleted' && event.details.clientId === clientId);
    expect(Number(audit?.details.revoked)).toBeGreaterThan(0);
  });

  it('refuses bad redirect URIs and names with a sentence next to the field, and registers nothing', async () => {
    const before = (await store().clients.list()).length;
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ redirectUris: 'not a url' }, 'application-redirect-uris', '"not a url" is not a valid URL.'],
      [{ redirectUris: `${REDIRECT_URI}\nhttps://rp.example.test/cb#fragment` }, 'application-redirect-uris', '"https://rp.example.test/cb#fragment" must not contain a fragment (#).'],
      [{ redirectUris: 'https://*.example.test/cb' }, 'application-redirect-uris', '"https://*.example.test/cb" must not contain a wildcard (*): register each address in full.'],
      [{ redirectUris: 'http://rp.example.test/cb' }, 'application-redirect-uris', '"http://rp.example.test/cb" must be an https URL: plain http is allowed only for localhost.'],
      [{ redirectUris: '' }, 'application-redirect-uris', 'Register at least one redirect URI: where the application receives the sign-in.'],
      [{ postLogoutRedirectUris: 'javascript:alert(1)' }, 'application-post-logout-uris', '"javascript:alert(1)" must be an http or https URL.'],
      [{ backchannelLogoutUri: 'https://rp.example.test/logout#x' }, 'application-backchannel-uri', '"https://rp.example.test/logout#x" must not contain a fragment (#).'],
      [{ name: 'n'.repeat(300) }, 'application-name', 'The application name must be 1 to 200 characters.'],
      [{ clientId: 'twofold-admin' }, 'application-client-id', 'The client id "twofold-admin" belongs to one of Twofold\'s own pages. Choose another.'],
      [{ clientId: 'app' }, 'application-client-id', 'A client with the id "app" already exists.'],
    ];
    for (const [fields, id, sentence] of cases) {
      const page = await register(fields);
      expect([fields, page.status, errorOf(page, id)]).toStrictEqual([fields, expect.toBeWithinRange(400, 409), sentence]);
      expect(page.html).not.toMatch(/class="secret"/);
    }
    expect((await store().clients.list()).length).toBe(before);
  });

  it('renames an organization, and deletes one only with its slug typed: members keep their accounts, the audit log stays', async () => {
    await fixture.twofold.app.organizationSetup.create(OPERATOR, { slug: 'harbour', name: 'Harbour', ownerEmail: 'harriet@harbour.test' });
    const harbour = (await store().organizations.findBySlug('harbour'))!;
    const harriet = (await store().users.findByEmail('harriet@harbour.test'))!;
    const ada = (await store().users.findByEmail('ada@city.test'))!;
    await store().memberships.put(harbour.id, ada.id, 'member');

    const renameForm = await admin.visit('/admin/site/organizations/harbour/rename');
    const tooLong = await admin.submit(renameForm, formAction(renameForm.html, '/rename'), { name: 'h'.repeat(300) });
    expect([tooLong.status, errorOf(tooLong, 'name')]).toStrictEqual([400, 'The organization name must be 1 to 200 characters.']);
    const renamed = await admin.submit(renameForm, formAction(renameForm.html, '/rename'), { name: 'Harbour Authority' });
    expect(renamed.html).toMatch(/The organization was renamed\./);
    expect((await store().organizations.findBySlug('harbour'))?.name).toBe('Harbour Authority');

    const confirm = await admin.visit('/admin/site/organizations/harbour/delete');
    expect(confirm.html).toMatch(/Its 2 members keep their accounts/);
    const wrong = await admin.submit(confirm, formAction(confirm.html, '/delete'), { confirm: 'harbor' });
    expect([wrong.status, errorOf(wrong, 'confirm')]).toStrictEqual([400, 'To delete Harbour Authority, type its slug, harbour, exactly.']);
    expect(await store().organizations.findBySlug('harbour')).not.toBeNull();

    const deleted = await admin.submit(confirm, formAction(confirm.html, '/delete'), { confirm: 'harbour' });
    expect(deleted.html).toMatch(/The organization was deleted\. Its members keep their accounts/);
    expect(await store().organizations.findBySlug('harbour')).toBeNull();
    expect(await store().users.findById(harriet.id)).not.toBeNull();
    expect((await store().memberships.listByUser(ada.id)).map((membership) => membership.organizationId)).not.toContain(harbour.id);
    expect((await store().memberships.listByUser(ada.id)).length).toBeGreaterThan(0);
    const kept = (await store().audit.list(harbour.id, { limit: 50, offset: 0 })).events.map((event) => event.action);
    expect(kept).toStrictEqual(expect.arrayContaining(['organization.created', 'organization.renamed', 'organization.deleted']));
    expect((await admin.visit('/admin/site/audit')).html).toMatch(/The organization Harbour Authority \(harbour\) was deleted; its 2 members kept their accounts\./);
    expect((await admin.visit('/admin/orgs/harbour/settings')).status).toBe(404);
  });

  it('hands the accounts a deleted organization\'s identity provider managed back to a password, with an e-mailed link', async () => {
    const docks = await fixture.twofold.app.organizations.create(OPERATOR, 'docks', 'Docks');
    await fixture.twofold.app.federation.configure(null, docks, { issuer: 'https://login.docks.example', clientId: 'twofold', clientSecret: 'upstream' }, null, { unchecked: true });
    const clerk = await fixture.twofold.app.users.create(OPERATOR, { email: 'clerk@docks.test', orgs: [{ slug: 'docks', role: 'member' }] });
    expect(clerk.managedBy).toBe(docks.id);
    await postForm(admin, '/admin/site/organizations/docks/delete', { confirm: 'docks' });
    expect((await store().users.findById(clerk.id))?.managedBy).toBeNull();
    const mail = await fixture.smtp.waitFor('clerk@docks.test', /set your password/);
    expect(mail.text).toMatch(/made your account \(clerk@docks\.test\) sign in with a password here/);
  });

  it('finds users by email or name across the site, a page at a time, with organizations, factors, last sign-in and status', async () => {
    for (let i = 0; i < 27; i += 1) await store().users.create({ email: `pager${String(i).padStart(2, '0')}@many.test`, name: `Pager ${i}`, passwordHash: null, siteAdmin: false });
    const byName = await admin.visit('/admin/site?q=lovelace');
    const row = /<a href="(\/admin\/site\/users\/[^"]+)">ada@city\.test<\/a>([\s\S]*?)<\/tr>/.exec(byName.html);
    expect(row).toBeTruthy();
    expect(row![2]).toMatch(/Ada Lovelace/);
    expect(row![2]).toMatch(/<td data-label="Organizations">County, Libraries \(owner\)<\/td>/);
    expect(row![2]).toMatch(/<td data-label="Second factors"><span class="status-off">None<\/span><\/td>/);
    expect(row![2]).toMatch(/<td data-label="Last sign-in"><time datetime="\d{4}-/);
    expect(row![2]).toMatch(/<td data-label="Status">Active<\/td>/);
    // The link leads to the user's page, where the site admin's actions are.
    expect((await admin.visit(row![1]!)).html).toMatch(/Status: <span class="status-on">Active<\/span>/);

    const first = await admin.visit('/admin/site?q=many.test');
    expect(first.html).toMatch(/Page 1 of 2 \(27 users\)/);
    expect([...first.html.matchAll(/@many\.test<\/a>/g)]).toHaveLength(25);
    const second = await admin.visit('/admin/site?q=many.test&page=2');
    expect([...second.html.matchAll(/@many\.test<\/a>/g)].length).toBe(2);
    expect(second.html).toMatch(/pager26@many\.test/);
    for (const bad of ['abc', '0', '-1', '1.5', '9999999']) {
      const refused = await admin.visit(`/admin/site?q=many&page=${bad}`);
      expect([bad, refused.status]).toStrictEqual([bad, 400]);
      expect(refused.html).toMatch(/<p class="field-error" id="q-error" role="alert">The page number must be a whole number from 1 to 100000\.<\/p>/);
    }
    const tooLong = await admin.visit(`/admin/site?q=${'x'.repeat(300)}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.html).toMatch(/The search text may have at most 254 characters\./);
  });
});
