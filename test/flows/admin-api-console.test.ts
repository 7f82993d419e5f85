import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adminApiRouter, API_PREFIX } from '../../src/admin/api/index.js';
import { OPERATOR } from '../../src/application/actor.js';
import { adminBrowser, apiTokenFrom, callApi } from '../support/admin.js';
import { Browser } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, startSignIn } from '../support/relying-party.js';

type Operation = { requestBody?: { content: { 'application/json': { schema: { type: string; properties: Record<string, unknown>; required: string[]; additionalProperties: boolean } } } } };
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** `/admin/api/organizations/:slug` as the OpenAPI document writes it: `/organizations/{slug}`. */
const documentedPath = (routerPath: string) => routerPath.slice(API_PREFIX.length).replace(/:(\w+)/g, '{$1}');

describe('the admin API: the console\'s routes, bodies checked against their definitions, and the OpenAPI document made from them', () => {
  let fixture: Fixture;
  let siteToken: string;
  let ownerToken: string;
  const url = () => fixture.twofold.url;
  const store = () => fixture.twofold.store;
  const api = (method: string, path: string, body?: unknown, token: string | null = siteToken) => callApi(url(), token, method, `${API_PREFIX}${path}`, body);
  /** Everything the refused calls below must leave as it was. */
  const snapshot = async () => JSON.stringify({
    organizations: await store().organizations.list(),
    clients: await store().clients.list(),
    members: await store().memberships.listByOrganization((await store().organizations.findBySlug('city'))!.id),
    invitations: await store().membershipInvitations.listByOrganization((await store().organizations.findBySlug('city'))!.id),
    mode: await store().settings.get('site.two_factor_mode'),
    users: (await store().users.search('', { limit: 1000, offset: 0 })).total,
  });

  beforeAll(async () => {
    fixture = await startFixture();
    const app = fixture.twofold.app;
    await app.users.create(OPERATOR, { email: 'root@site.test', password: PASSWORD, siteAdmin: true });
    await app.users.create(OPERATOR, { email: 'olivia@city.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
    await app.users.create(OPERATOR, { email: 'ada@city.test', name: 'Ada Lovelace', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    await app.users.create(OPERATOR, { email: 'grace@elsewhere.test', name: 'Grace Hopper', password: PASSWORD });
    await app.members.add(null, 'county', { email: 'grace@elsewhere.test', role: 'member' }, null);
    siteToken = await apiTokenFrom((await adminBrowser(url(), 'root@site.test', PASSWORD)).browser);
    ownerToken = await apiTokenFrom((await adminBrowser(url(), 'olivia@city.test', PASSWORD)).browser);
  });
  afterAll(() => fixture.close());

  it('serves an OpenAPI 3.1 document that lists exactly the routes the router serves, each answering on the live server', async () => {
    const served = await fetch(new URL(`${API_PREFIX}/openapi.json`, url()));
    expect(served.status).toBe(200);
    const document = await served.json() as OpenApi;
    expect(document.openapi).toBe('3.1.0');

    const twofold = fixture.twofold;
    const router = adminApiRouter({ config: twofold.config, provider: twofold.app.provider, log: twofold.composition.log, application: twofold.app });
    const routed = router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${documentedPath(String(layer.path))}`));
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routed.length).toBeGreaterThan(20);
    expect([...documented].sort()).toStrictEqual([...new Set(routed)].sort());

    for (const entry of routed) {
      const [method, path] = entry.split(' ') as [string, string];
      const concrete = path.replace(/\{\w+\}/g, 'x');
      const response = await callApi(url(), null, method, `${API_PREFIX}${concrete}`, method === 'GET' ? undefined : {});
      // Served (not a 404 for an unknown endpoint): without a token, every route but the document asks for one.
      expect([entry, response.status]).toStrictEqual([entry, path === '/openapi.json' ? 200 : 401]);
    }
    // Each body schema is the one the router checks: closed, its required properties among its properties.
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const schema = operation.requestBody?.content['application/json'].schema;
        if (!schema) continue;
        expect([method, path, schema.type, schema.additionalProperties]).toStrictEqual([method, path, 'object', false]);
        for (const name of schema.required) expect([path, name, Object.keys(schema.properties)]).toStrictEqual([path, name, expect.arrayContaining([name])]);
      }
    }
  });

  it('answers a body of only __proto__ and constructor, on every route that takes one or none, with a 400 naming them, changing nothing', async () => {
    const document = await (await fetch(new URL(`${API_PREFIX}/openapi.json`, url()))).json() as OpenApi;
    const city = (await store().organizations.findBySlug('city'))!;
    const ada = (await store().users.findByEmail('ada@city.test'))!;
    const invitation = await fixture.twofold.app.members.add((await store().users.findByEmail('root@site.test'))!, 'city', { email: 'grace@elsewhere.test', role: 'member' }, null);
    expect(invitation.outcome).toBe('invited');
    const [pending] = await store().membershipInvitations.listByOrganization(city.id);
    const values: Record<string, string> = { slug: 'city', userId: ada.id, invitationId: pending!.id, clientId: 'app' };
    const before = await snapshot();
    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const method of Object.keys(operations).map((name) => name.toUpperCase())) {
        if (method === 'GET') continue;
        const concrete = path.replace(/\{(\w+)\}/g, (_whole, name: string) => values[name]!);
        const response = await api(method, concrete, '{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
        expect([method, path, response.status, response.json.error]).toStrictEqual([method, path, 400, 'invalid_request']);
        expect([method, path, response.json.error_description]).toStrictEqual([method, path, expect.stringMatching(/^Unknown properties "__proto__", "constructor"\. This endpoint takes /)]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(await snapshot()).toBe(before);

    // The case, and a typo that used to do nothing silently.
    const policy = await api('PUT', '/organizations/city/policy', '{"__proto__": 1, "constructor": 2}');
    expect(policy).toStrictEqual({ status: 400, json: { error: 'invalid_request', error_description: 'Unknown properties "__proto__", "constructor". This endpoint takes "forceTwoFactor", "gracePeriodDays", "rememberBrowserDays", "applyTo", "requiredFactor", "confirmSetupByEmail".' } });
    const typo = await api('PUT', '/organizations/city/policy', { forceTwoFacter: false });
    expect(typo.json.error_description).toBe('Unknown property "forceTwoFacter". This endpoint takes "forceTwoFactor", "gracePeriodDays", "rememberBrowserDays", "applyTo", "requiredFactor", "confirmSetupByEmail".');
    const none = await api('DELETE', '/site/applications/app', { force: true });
    expect(none.json.error_description).toBe('Unknown property "force". This endpoint takes no body.');
    // A caller who may not act learns nothing from the body: authorization comes first.
    expect((await api('PUT', '/organizations/city/policy', { nonsense: 1 }, ownerToken)).status).toBe(404);
    expect((await api('POST', '/site/organizations', { nonsense: 1 }, ownerToken)).status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it('creates, lists, renames and deletes organizations, with sentences for bad input', async () => {
    const created = await api('POST', '/site/organizations', { slug: 'transit', name: 'Transit Authority', ownerEmail: 'tom@transit.test' });
    expect(created.status).toBe(201);
    expect(created.json).toStrictEqual({
      organization: { slug: 'transit', name: 'Transit Authority', forceTwoFactor: false, federated: false, createdAt: expect.stringMatching(/^\d{4}-/) },
      owner: { email: 'tom@transit.test', status: 'created' },
    });
    await fixture.smtp.waitFor('tom@transit.test', /You have been invited/);
    const invited = await api('POST', '/site/organizations', { slug: 'schools', name: 'Schools', ownerEmail: 'ada@city.test' });
    expect(invited.json.owner).toStrictEqual({ email: 'ada@city.test', status: 'invited' });

    const listed = (await api('GET', '/site/organizations')).json.organizations as Array<Record<string, unknown>>;
    expect(listed.find((organization) => organization.slug === 'county')).toMatchObject({ members: 2, owners: 1, forceTwoFactor: false, adoption: { covers: 'members', total: 2, enrolled: 0 } });
    expect(listed.find((organization) => organization.slug === 'transit')).toMatchObject({ members: 1, owners: 1 });

    const refusals: Array<[unknown, number, string]> = [
      [{ slug: 'transit', name: 'Again' }, 409, 'An organization with the slug "transit" already exists.'],
      [{ slug: 'x', name: 'n'.repeat(300) }, 400, '"name" must have at most 200 characters.'],
      [{ slug: 'x', name: '   ' }, 400, 'The organization name must be 1 to 200 characters.'],
      [{ slug: 'No Slug', name: 'X' }, 400, '"No Slug" is not a valid organization slug: use 1 to 63 lower-case letters, digits and inner dashes.'],
      [{ name: 'X' }, 400, '"slug" is required. 1 to 63 lower-case letters, digits and inner dashes; unique; used in addresses.'],
      [{ slug: 'x', name: 'X', ownerEmail: 'nobody' }, 400, '"nobody" is not a valid email address.'],
      [{ slug: 42, name: 'X' }, 400, '"slug" must be a string.'],
    ];
    for (const [body, status, sentence] of refusals) {
      const response = await api('POST', '/site/organizations', body);
      expect([body, response.status, response.json.error_description]).toStrictEqual([body, status, sentence]);
    }
    expect(await store().organizations.findBySlug('x')).toBeNull();

    expect((await api('PATCH', '/site/organizations/transit', { name: 'Transit' })).json).toMatchObject({ slug: 'transit', name: 'Transit' });
    expect((await api('PATCH', '/site/organizations/nowhere', { name: 'N' })).status).toBe(404);
    expect((await api('DELETE', '/site/organizations/transit', {})).json.error_description).toMatch(/^"confirm" is required\./);
    expect((await api('DELETE', '/site/organizations/transit', { confirm: 'Transit' })).json.error_description).toBe('To delete Transit, type its slug, transit, exactly.');
    expect(await store().organizations.findBySlug('transit')).not.toBeNull();
    expect((await api('DELETE', '/site/organizations/transit', { confirm: 'transit' })).json).toStrictEqual({ deleted: 'transit', members: 1, managedAccounts: 0 });
    expect(await store().organizations.findBySlug('transit')).toBeNull();
    expect(await store().users.findByEmail('tom@transit.test')).not.toBeNull();
  });

  it('registers an application with its secret in the answer only, rotates it with a grace period, and deletes it', async () => {
    const registered = await callApi(url(), siteToken, 'POST', `${API_PREFIX}/site/applications`, {
      name: 'Payroll', clientId: 'payroll', redirectUris: [REDIRECT_URI], backchannelLogoutUri: 'https://rp.example.test/bc', firstParty: true,
    });
    expect(registered.status).toBe(201);
    const secret = registered.json.clientSecret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(registered.json.application).toStrictEqual({
      clientId: 'payroll', name: 'Payroll', type: 'confidential', firstParty: true, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [],
      backchannelLogoutUri: 'https://rp.example.test/bc', previousSecretExpiresAt: null, createdAt: expect.stringMatching(/^\d{4}-/),
    });
    const noStore = await fetch(new URL(`${API_PREFIX}/site/applications/payroll`, url()), { headers: { authorization: `Bearer ${siteToken}` } });
    expect(noStore.headers.get('cache-control')).toBe('no-store');
    expect(JSON.stringify(await noStore.json())).not.toContain(secret);
    expect(JSON.stringify((await api('GET', '/site/applications')).json)).not.toContain(secret);

    const signIn = async (rp: oidc.Configuration) => {
      const pending = await startSignIn(rp, { scope: 'openid email offline_access', prompt: 'consent' });
      return exchangeCode(rp, await signInAndAllow(new Browser(url()), pending, 'grace@elsewhere.test', PASSWORD), pending);
    };
    const withFirst = await discover(url(), 'payroll', secret);
    const tokens = await signIn(withFirst);

    const rotated = await api('POST', '/site/applications/payroll/rotate-secret', { graceHours: 1 });
    expect(rotated.status).toBe(200);
    const second = rotated.json.clientSecret as string;
    expect(second).not.toBe(secret);
    expect(Date.parse(rotated.json.previousSecretExpiresAt as string) - Date.now()).toBeWithinRange(3_500_000, 3_600_000);
    // Both work during the hour.
    expect((await oidc.refreshTokenGrant(withFirst, tokens.refresh_token!)).access_token).toBeTruthy();
    expect((await signIn(await discover(url(), 'payroll', second))).access_token).toBeTruthy();
    for (const [body, sentence] of [[{ graceHours: 169 }, '"graceHours" must be a whole number from 0 to 168.'], [{ graceHours: '2' }, '"graceHours" must be a whole number from 0 to 168.']] as const) {
      expect((await api('POST', '/site/applications/payroll/rotate-secret', body)).json.error_description).toBe(sentence);
    }
    expect((await api('POST', '/site/applications/app/rotate-secret', {})).json).toStrictEqual({ error: 'conflict', error_description: '"app" is a public application: it has no secret to rotate.' });

    const deleted = await api('DELETE', '/site/applications/payroll');
    expect(deleted.json).toStrictEqual({ deleted: 'payroll', revoked: expect.any(Number) });
    expect(deleted.json.revoked).toBeGreaterThan(0);
    expect((await api('GET', '/site/applications/payroll')).status).toBe(404);
    expect((await api('DELETE', '/site/applications/payroll')).status).toBe(404);
    // Neither secret reached the log.
    expect(fixture.twofold.logLines.filter((line) => line.includes(secret) || line.includes(second))).toStrictEqual([]);
  });

  it('refuses bad application bodies with a sentence naming the property, registering nothing', async () => {
    const before = (await store().clients.list()).length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'A', redirectUris: 'https://rp.example.test/cb' }, '"redirectUris" must be a list of strings.'],
      [{ name: 'A', redirectUris: [] }, 'Register at least one redirect URI: where the application receives the sign-in.'],
      [{ name: 'A', redirectUris: ['https://rp.example.test/cb#x'] }, '"https://rp.example.test/cb#x" must not contain a fragment (#).'],
      [{ name: 'A', redirectUris: ['http://rp.example.test/cb'] }, '"http://rp.example.test/cb" must be an https URL: plain http is allowed only for localhost.'],
      [{ name: 'A', redirectUris: ['https://rp.example.test/*'] }, '"https://rp.example.test/*" must not contain a wildcard (*): register each address in full.'],
      [{ name: 'A', redirectUris: [REDIRECT_URI], backchannelLogoutUri: 'not a url' }, '"not a url" is not a valid URL.'],
      [{ name: 'a'.repeat(300), redirectUris: [REDIRECT_URI] }, '"name" must have at most 200 characters.'],
      [{ name: 'A', redirectUris: [REDIRECT_URI], clientId: 'has space' }, '"has space" is not a valid client id: use 1 to 128 letters, digits, dots, underscores, tildes and dashes.'],
      [{ name: 'A', redirectUris: [REDIRECT_URI], confidential: 'yes' }, '"confidential" must be true or false.'],
      [{ redirectUris: [REDIRECT_URI] }, '"name" is required. The name people see on the consent page, 1 to 200 characters.'],
    ];
    for (const [body, sentence] of cases) {
      const response = await api('POST', '/site/applications', body);
      expect([body, response.status, response.json.error_description]).toStrictEqual([body, 400, sentence]);
    }
    expect((await store().clients.list()).length).toBe(before);
  });

  it('searches users by email or name, paged, with organizations, factors, last sign-in and status; bad page numbers are a 400', async () => {
    const found = await api('GET', '/site/users?q=hopper');
    expect(found.json).toStrictEqual({
      users: [{
        id: expect.any(String), email: 'grace@elsewhere.test', name: 'Grace Hopper', siteAdmin: false, status: 'active',
        organizations: [{ slug: 'county', name: 'County', role: 'member' }],
        factors: { app: false, securityKeys: 0, recoveryCodesRemaining: null },
        lastSignInAt: expect.stringMatching(/^\d{4}-/),
      }],
      page: 1, pages: 1, total: 1,
    });
    const everyone = await api('GET', '/site/users?page=1');
    expect(everyone.json.total).toBe((await store().users.count()));
    for (const query of ['page=0', 'page=abc', 'page=1&page=2', `q=${'x'.repeat(255)}`, 'q=a&q=b']) {
      const refused = await api('GET', `/site/users?${query}`);
      expect([query, refused.status, refused.json.error]).toStrictEqual([query, 400, 'invalid_request']);
    }
    const profile = await api('GET', `/site/users/${(found.json.users as Array<{ id: string }>)[0]!.id}`);
    expect(profile.json).toMatchObject({ email: 'grace@elsewhere.test', status: 'active', organizations: [{ slug: 'county', name: 'County' }], twoFactor: { enrolled: false } });
    expect((await api('GET', '/site/users/not-an-id')).status).toBe(404);
    expect((await api('GET', '/site/users?q=hopper', undefined, ownerToken)).status).toBe(403);
  });
});
