import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { bodyContext } from '../../src/mail/mailer.js';
import { adminApiToken, adminBrowser, callApi, postForm } from '../support/admin.js';
import { exchangeCode, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { Browser } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';

type ActorName = 'anonymous' | 'member of A' | 'owner of A' | 'owner of B' | 'site admin';
const ACTORS: ActorName[] = ['anonymous', 'member of A', 'owner of A', 'owner of B', 'site admin'];
type Outcome = 'allowed' | 'sign in' | 'refused';

/**
 * The authorization matrix (docs/security-model.md): every admin page, form and API route against every kind of
 * caller. Allowed rows must succeed; refused rows must answer 401/403/404 and change nothing.
 */
describe('admin authorization matrix', () => {
  let fixture: Fixture;
  const browsers = new Map<ActorName, Browser>();
  const tokens = new Map<ActorName, string | null>();
  /** The site admin sets up a second factor at the first sign-in to /admin; later sign-ins use it. */
  const secrets = new Map<string, string>();
  const matrix: string[] = [];
  let targetCounter = 0;

  const store = () => fixture.twofold.store;
  /** Each target's e-mail that the mail server refused for a day, for a site admin's Retry. */
  const failedEmails = new Map<string, string>();
  const failEmailTo = async (email: string): Promise<string> => {
    const id = crypto.randomUUID();
    // Due only in an hour, so the instance's own worker leaves it to this test.
    const later = new Date(Date.now() + 3_600_000);
    const sealedBody = fixture.twofold.composition.box.seal(JSON.stringify({ from: 'twofold@x.test', html: '<p>Hello</p>', text: 'Hello' }), bodyContext(id));
    await store().outbox.enqueue({ id, message: 'two-factor-disabled', to: email, subject: 'Two-factor authentication was turned off for your account', sealedBody, queuedAt: later, giveUpAt: later });
    await store().outbox.claim('matrix', later, new Date(later.getTime() + 60_000), 1, [id]);
    await store().outbox.markFailed(id, 'matrix', later, 'connect ECONNREFUSED 127.0.0.1:25');
    return id;
  };
  /** A fresh member of A with 2FA enrolled, so each destructive check has its own target. */
  const freshTarget = async (): Promise<string> => {
    targetCounter += 1;
    const email = `target${targetCounter}@a.test`;
    const user = await fixture.twofold.app.users.create(OPERATOR, { email, password: PASSWORD, orgs: [{ slug: 'a', role: 'member' }] });
    await store().secondFactors.enable({ userId: user.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
    failedEmails.set(user.id, await failEmailTo(email));
    return user.id;
  };
  const stateOf = async (userId: string) => {
    const a = (await store().organizations.findBySlug('a'))!;
    const user = await store().users.findById(userId);
    return {
      exists: user !== null,
      suspended: user?.suspendedAt != null,
      membership: await store().memberships.find(a.id, userId),
      enrolled: (await store().secondFactors.find(userId)) !== null,
      forced: a.forceTwoFactor,
      mode: await store().settings.get('site.two_factor_mode'),
      emailFailed: (await store().outbox.listFailed(1000)).some((entry) => entry.id === failedEmails.get(userId)),
    };
  };
  const expected = (actor: ActorName, siteOnly: boolean): Outcome => {
    if (actor === 'anonymous') return 'sign in';
    if (actor === 'site admin') return 'allowed';
    if (siteOnly) return 'refused';
    return actor === 'owner of A' ? 'allowed' : 'refused';
  };

  beforeAll(async () => {
    fixture = await startFixture();
    const twofoldApp = fixture.twofold.app;
    await twofoldApp.organizations.create(OPERATOR, 'a', 'Org A');
    await twofoldApp.organizations.create(OPERATOR, 'b', 'Org B');
    await twofoldApp.users.create(OPERATOR, { email: 'member@a.test', password: PASSWORD, orgs: [{ slug: 'a', role: 'member' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'owner@a.test', password: PASSWORD, orgs: [{ slug: 'a', role: 'owner' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'owner@b.test', password: PASSWORD, orgs: [{ slug: 'b', role: 'owner' }] });
    await twofoldApp.users.create(OPERATOR, { email: 'admin@site.test', password: PASSWORD, siteAdmin: true });
    const emails: Record<Exclude<ActorName, 'anonymous'>, string> = {
      'member of A': 'member@a.test', 'owner of A': 'owner@a.test', 'owner of B': 'owner@b.test', 'site admin': 'admin@site.test',
    };
    browsers.set('anonymous', new Browser(fixture.twofold.url));
    tokens.set('anonymous', null);
    for (const [actor, email] of Object.entries(emails) as Array<[ActorName, string]>) {
      const signedIn = await adminBrowser(fixture.twofold.url, email, PASSWORD);
      browsers.set(actor, signedIn.browser);
      if (signedIn.secret) secrets.set(email, signedIn.secret);
      tokens.set(actor, await adminApiToken(fixture.twofold.url, email, PASSWORD, { secret: secrets.get(email) ?? '', step: 1 }));
    }
  });
  afterAll(async () => {
    console.log(`\nAdmin authorization matrix (A = the organization acted on):\n${matrix.join('\n')}\n`);
    await fixture.close();
  });

  interface Route {
    readonly name: string;
    readonly siteOnly: boolean;
    /** Whether the route changes something (then a refused call must leave the state as it was). */
    readonly changes: boolean;
    /** Brings the fresh target to where the route acts on it (a suspended account, for Reactivate). */
    readonly prepare?: (target: string) => Promise<void>;
    readonly page?: (browser: Browser, target: string) => Promise<number>;
    readonly api?: (token: string | null, target: string) => Promise<number>;
    /** The admin API route the `api` call exercises, as the OpenAPI document names it ("GET /site/users"). */
    readonly apiRoute?: string;
    /** What each call acts on (default: a fresh member of A with 2FA), and what a refused call must leave as it was. */
    readonly target?: () => Promise<string>;
    readonly state?: (target: string) => Promise<unknown>;
  }
  /** The site console's targets: a fresh organization, a fresh confidential application, or a slug / client id not taken yet. */
  const freshOrganization = async () => (await fixture.twofold.app.organizations.create(OPERATOR, `org${++targetCounter}`, `Organization ${targetCounter}`)).slug;
  const freshApplication = async () => (await fixture.twofold.app.clients.create(OPERATOR, { clientId: `app${++targetCounter}`, redirectUris: ['https://rp.example.test/cb'], secret: 's'.repeat(40) })).client.clientId;
  const unusedName = async () => `new${++targetCounter}`;
  const organizationState = async (slug: string) => store().organizations.findBySlug(slug);
  const applicationState = async (clientId: string) => store().clients.find(clientId);
  const json = (method: string, path: string, body?: unknown) => async (t: string | null) => (await callApi(origin(), t, method, `/admin/api${path}`, body)).status;
  const origin = () => fixture.twofold.url;
  const get = async (browser: Browser, path: string) => (await browser.request(path)).status;
  const post = async (browser: Browser, path: string, fields: Record<string, string> = {}) => (await postForm(browser, path, fields)).status;
  const emailOf = async (userId: string) => (await store().users.findById(userId))!.email;
  const suspended = async (userId: string) => {
    await store().users.suspend(userId, new Date());
  };
  const ROUTES: Route[] = [
    { name: 'settings', siteOnly: false, changes: false, page: (b) => get(b, '/admin/orgs/a/settings'), api: async (t) => (await callApi(origin(), t, 'GET', '/admin/api/organizations/a/policy')).status },
    { name: 'save policy', siteOnly: false, changes: true, page: (b) => post(b, '/admin/orgs/a/settings', { forceTwoFactor: 'on' }), api: async (t) => (await callApi(origin(), t, 'PUT', '/admin/api/organizations/a/policy', { forceTwoFactor: true })).status },
    { name: 'members', siteOnly: false, changes: false, page: (b) => get(b, '/admin/orgs/a/members'), api: async (t) => (await callApi(origin(), t, 'GET', '/admin/api/organizations/a/members')).status },
    { name: 'add member', siteOnly: false, changes: false, page: (b) => post(b, '/admin/orgs/a/members', { email: `added${Math.random()}@a.test`, role: 'member' }), api: async (t) => (await callApi(origin(), t, 'POST', '/admin/api/organizations/a/members', { email: `added${Math.random()}@a.test` })).status },
    { name: 'make owner', siteOnly: false, changes: true, page: (b, x) => post(b, `/admin/orgs/a/members/${x}/role`, { role: 'owner' }), api: async (t, x) => (await callApi(origin(), t, 'PUT', `/admin/api/organizations/a/members/${x}/role`, { role: 'owner' })).status },
    { name: 'remove member', siteOnly: false, changes: true, page: (b, x) => post(b, `/admin/orgs/a/members/${x}/remove`), api: async (t, x) => (await callApi(origin(), t, 'DELETE', `/admin/api/organizations/a/members/${x}`)).status },
    { name: 'disable 2FA: confirmation', siteOnly: false, changes: false, page: (b, x) => get(b, `/admin/orgs/a/members/${x}/disable-2fa`) },
    { name: 'disable 2FA', siteOnly: false, changes: true, page: (b, x) => post(b, `/admin/orgs/a/members/${x}/disable-2fa`, { reason: 'lost phone' }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/organizations/a/members/${x}/disable-2fa`, { reason: 'lost phone' })).status },
    { name: 'audit log', siteOnly: false, changes: false, page: (b) => get(b, '/admin/orgs/a/audit'), api: async (t) => (await callApi(origin(), t, 'GET', '/admin/api/organizations/a/audit')).status },
    { name: 'site settings', siteOnly: true, changes: false, page: (b) => get(b, '/admin/site'), api: async (t) => (await callApi(origin(), t, 'GET', '/admin/api/site/two-factor-mode')).status },
    { name: 'save site mode', siteOnly: true, changes: true, page: (b) => post(b, '/admin/site', { mode: 'required' }), api: async (t) => (await callApi(origin(), t, 'PUT', '/admin/api/site/two-factor-mode', { mode: 'required' })).status },
    { name: 'any user\'s profile', siteOnly: true, changes: false, page: (b, x) => get(b, `/admin/site/users/${x}`) },
    { name: 'disable any user\'s 2FA', siteOnly: true, changes: true, page: (b, x) => post(b, `/admin/site/users/${x}/disable-2fa`) },
    { name: 'site audit log', siteOnly: true, changes: false, page: (b) => get(b, '/admin/site/audit') },
    { name: 'retry a failed e-mail', siteOnly: true, changes: true, page: (b, x) => post(b, `/admin/site/emails/${failedEmails.get(x)}/retry`) },
    { name: 'suspend account: confirmation', siteOnly: false, changes: false, page: (b, x) => get(b, `/admin/orgs/a/members/${x}/suspend`) },
    { name: 'suspend account', siteOnly: false, changes: true, page: (b, x) => post(b, `/admin/orgs/a/members/${x}/suspend`, { reason: 'left' }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/organizations/a/members/${x}/suspend`, { reason: 'left' })).status },
    { name: 'reactivate account', siteOnly: false, changes: true, prepare: suspended, page: (b, x) => post(b, `/admin/orgs/a/members/${x}/reactivate`, { reason: 'back' }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/organizations/a/members/${x}/reactivate`, { reason: 'back' })).status },
    { name: 'delete account', siteOnly: false, changes: true, page: async (b, x) => post(b, `/admin/orgs/a/members/${x}/delete`, { confirmEmail: await emailOf(x) }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/organizations/a/members/${x}/delete-account`, { confirmEmail: await emailOf(x) })).status },
    { name: 'remove and suspend', siteOnly: false, changes: true, page: (b, x) => post(b, `/admin/orgs/a/members/${x}/remove`, { suspendAccount: 'on', reason: 'left' }), api: async (t, x) => (await callApi(origin(), t, 'DELETE', `/admin/api/organizations/a/members/${x}`, { suspendAccount: true, reason: 'left' })).status },
    { name: 'suspend any user\'s account', siteOnly: true, changes: true, apiRoute: 'POST /site/users/{userId}/suspend', page: (b, x) => post(b, `/admin/site/users/${x}/suspend`, { reason: 'left' }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/site/users/${x}/suspend`, { reason: 'left' })).status },
    { name: 'reactivate any user\'s account', siteOnly: true, changes: true, prepare: suspended, apiRoute: 'POST /site/users/{userId}/reactivate', page: (b, x) => post(b, `/admin/site/users/${x}/reactivate`, { reason: 'back' }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/site/users/${x}/reactivate`, { reason: 'back' })).status },
    { name: 'delete any user\'s account', siteOnly: true, changes: true, apiRoute: 'POST /site/users/{userId}/delete', page: async (b, x) => post(b, `/admin/site/users/${x}/delete`, { confirmEmail: await emailOf(x) }), api: async (t, x) => (await callApi(origin(), t, 'POST', `/admin/api/site/users/${x}/delete`, { confirmEmail: await emailOf(x) })).status },
    // The site admins' console.
    { name: 'organizations', siteOnly: true, changes: false, apiRoute: 'GET /site/organizations', page: (b) => get(b, '/admin/site#organizations'), api: json('GET', '/site/organizations') },
    { name: 'create organization', siteOnly: true, changes: true, target: unusedName, state: organizationState, apiRoute: 'POST /site/organizations', page: (b, x) => post(b, '/admin/site/organizations', { name: 'New', slug: x, ownerEmail: '' }), api: (t, x) => json('POST', '/site/organizations', { name: 'New', slug: x })(t) },
    { name: 'rename organization: form', siteOnly: true, changes: false, target: freshOrganization, page: (b, x) => get(b, `/admin/site/organizations/${x}/rename`) },
    { name: 'rename organization', siteOnly: true, changes: true, target: freshOrganization, state: organizationState, apiRoute: 'PATCH /site/organizations/{slug}', page: (b, x) => post(b, `/admin/site/organizations/${x}/rename`, { name: 'Renamed' }), api: (t, x) => json('PATCH', `/site/organizations/${x}`, { name: 'Renamed' })(t) },
    { name: 'delete organization: confirmation', siteOnly: true, changes: false, target: freshOrganization, page: (b, x) => get(b, `/admin/site/organizations/${x}/delete`) },
    { name: 'delete organization', siteOnly: true, changes: true, target: freshOrganization, state: organizationState, apiRoute: 'DELETE /site/organizations/{slug}', page: (b, x) => post(b, `/admin/site/organizations/${x}/delete`, { confirm: x }), api: (t, x) => json('DELETE', `/site/organizations/${x}`, { confirm: x })(t) },
    { name: 'applications', siteOnly: true, changes: false, target: freshApplication, apiRoute: 'GET /site/applications', page: (b) => get(b, '/admin/site#applications'), api: json('GET', '/site/applications') },
    { name: 'one application', siteOnly: true, changes: false, target: freshApplication, apiRoute: 'GET /site/applications/{clientId}', api: (t, x) => json('GET', `/site/applications/${x}`)(t) },
    { name: 'register application', siteOnly: true, changes: true, target: unusedName, state: applicationState, apiRoute: 'POST /site/applications', page: (b, x) => post(b, '/admin/site/applications', { name: 'New', clientId: x, redirectUris: 'https://rp.example.test/cb', kind: 'confidential' }), api: (t, x) => json('POST', '/site/applications', { name: 'New', clientId: x, redirectUris: ['https://rp.example.test/cb'] })(t) },
    { name: 'rotate secret: form', siteOnly: true, changes: false, target: freshApplication, page: (b, x) => get(b, `/admin/site/applications/${x}/rotate-secret`) },
    { name: 'rotate secret', siteOnly: true, changes: true, target: freshApplication, state: applicationState, apiRoute: 'POST /site/applications/{clientId}/rotate-secret', page: (b, x) => post(b, `/admin/site/applications/${x}/rotate-secret`, { graceHours: '1' }), api: (t, x) => json('POST', `/site/applications/${x}/rotate-secret`, { graceHours: 1 })(t) },
    { name: 'delete application: confirmation', siteOnly: true, changes: false, target: freshApplication, page: (b, x) => get(b, `/admin/site/applications/${x}/delete`) },
    { name: 'delete application', siteOnly: true, changes: true, target: freshApplication, state: applicationState, apiRoute: 'DELETE /site/applications/{clientId}', page: (b, x) => post(b, `/admin/site/applications/${x}/delete`), api: (t, x) => json('DELETE', `/site/applications/${x}`)(t) },
    { name: 'search users', siteOnly: true, changes: false, apiRoute: 'GET /site/users', page: (b) => get(b, '/admin/site?q=target&page=1#users'), api: json('GET', '/site/users?q=target&page=1') },
    { name: 'a user, as JSON', siteOnly: true, changes: false, apiRoute: 'GET /site/users/{userId}', api: (t, x) => json('GET', `/site/users/${x}`)(t) },
  ];
  /** The API routes this matrix does not reach through a named `apiRoute` above, but through the older rows. */
  const COVERED_BY_OLDER_ROWS = ['GET /site/two-factor-mode', 'PUT /site/two-factor-mode'];

  /** Forms are followed through their redirect (a 2xx page); an anonymous GET is redirected to sign in. */
  const classify = (status: number): Outcome => {
    if (status >= 200 && status < 300) return 'allowed';
    if (status === 302 || status === 401) return 'sign in';
    if (status === 403 || status === 404) return 'refused';
    throw new Error(`unexpected status ${status}`);
  };

  for (const route of ROUTES) {
    for (const via of ['page', 'api'] as const) {
      if (!route[via]) continue;
      it(`${route.name} (${via})`, async () => {
        const row: string[] = [];
        for (const actor of ACTORS) {
          // Reset what earlier rows changed, so each call starts from the same state.
          const a = (await store().organizations.findBySlug('a'))!;
          await store().organizations.setForceTwoFactor(a.id, false, new Date());
          await store().settings.set('site.two_factor_mode', 'optional');
          const target = await (route.target ?? freshTarget)();
          await route.prepare?.(target);
          const state = route.state ?? stateOf;
          const before = await state(target);
          const status: number = via === 'page' ? await route.page!(browsers.get(actor)!, target) : await route.api!(tokens.get(actor)!, target);
          expect([actor, status]).toStrictEqual([actor, expect.toBeWithinRange(100, 499)]);
          const outcome = classify(status);
          expect([actor, status, outcome]).toStrictEqual([actor, status, expected(actor, route.siteOnly)]);
          if (outcome !== 'allowed' && route.changes) expect([actor, await state(target)]).toStrictEqual([actor, before]);
          if (outcome === 'allowed' && route.changes) expect([actor, await state(target)]).not.toStrictEqual([actor, before]);
          row.push(`${actor}: ${status} ${outcome}`);
        }
        matrix.push(`${`${route.name} (${via})`.padEnd(34)} ${row.join(' | ')}`);
      });
    }
  }

  it('covers every site console route of the admin API, as the OpenAPI document made from the router lists them', async () => {
    const document = await (await fetch(new URL('/admin/api/openapi.json', origin()))).json() as { paths: Record<string, Record<string, { tags: string[] }>> };
    const consoleRoutes = Object.entries(document.paths).flatMap(([path, operations]) => Object.entries(operations)
      .filter(([, operation]) => operation.tags.includes('Site console'))
      .map(([method]) => `${method.toUpperCase()} ${path}`));
    expect(consoleRoutes.length).toBeGreaterThan(10);
    expect(consoleRoutes.sort()).toStrictEqual([...ROUTES.flatMap((route) => (route.apiRoute ? [route.apiRoute] : [])), ...COVERED_BY_OLDER_ROWS].sort());
  });

  it('hides other organizations\' members from an owner who guesses their ids', async () => {
    const bOwner = browsers.get('owner of B')!;
    const target = await freshTarget();
    for (const path of [`/admin/orgs/b/members/${target}/disable-2fa`, `/admin/orgs/b/members/${target}/remove`, `/admin/orgs/b/members/${target}/role`]) {
      const status = path.endsWith('disable-2fa') ? (await bOwner.request(path)).status : (await postForm(bOwner, path, { role: 'owner' })).status;
      expect([path, status]).toStrictEqual([path, 404]);
    }
    for (const action of ['suspend', 'reactivate', 'delete']) {
      const path = `/admin/orgs/b/members/${target}/${action}`;
      expect([path, (await bOwner.request(path)).status, (await postForm(bOwner, path, { reason: 'x', confirmEmail: 'x' })).status]).toStrictEqual([path, 404, 404]);
    }
    for (const action of ['suspend', 'reactivate', 'delete-account']) {
      // Each action's own body: the API refuses a property a route does not take before anything else.
      const body = action === 'delete-account' ? { confirmEmail: 'x' } : { reason: 'x' };
      const api = await callApi(fixture.twofold.url, tokens.get('owner of B')!, 'POST', `/admin/api/organizations/b/members/${target}/${action}`, body);
      expect([action, api.status]).toStrictEqual([action, 404]);
    }
    expect((await store().users.findById(target))?.suspendedAt).toBeNull();
    // A's owners see the attempts on their member.
    const seenByA = (await store().audit.list((await store().organizations.findBySlug('a'))!.id, { limit: 500, offset: 0 })).events.filter((event) => event.action === 'action.refused' && event.targetId === target);
    expect(seenByA.map((event) => [event.actorEmail, event.details.reason])).toStrictEqual(Array.from({ length: 6 }, () => ['owner@b.test', 'not a member of b']));
    const api = await callApi(fixture.twofold.url, tokens.get('owner of B')!, 'POST', `/admin/api/organizations/b/members/${target}/disable-2fa`, {});
    expect(api.status).toBe(404);
    expect(api.json).toStrictEqual({ error: 'not_found', error_description: 'That person is not a member of this organization.' });
    // Still enrolled.
    expect(await store().secondFactors.find(target)).toBeTruthy();
  });

  it('refuses API tokens without the admin scope, forged tokens and missing tokens', async () => {
    // A relying party's own token, even for an owner: only the built-in admin app's tokens open the API.
    const pending = await startSignIn(fixture.rp, { scope: 'openid email' });
    const landed = await signInWithPassword(new Browser(fixture.twofold.url), pending, 'owner@a.test', PASSWORD);
    const plain = (await exchangeCode(fixture.rp, landed.url, pending)).access_token;
    const noScope = await callApi(fixture.twofold.url, plain, 'GET', '/admin/api/organizations');
    expect(noScope.status).toBe(403);
    expect(noScope.json.error).toBe('insufficient_scope');
    for (const token of [null, 'forged-token', `${tokens.get('owner of A')}x`]) {
      const response = await callApi(fixture.twofold.url, token, 'GET', '/admin/api/organizations');
      expect(response.status).toBe(401);
      expect(response.json.error).toBe('invalid_token');
    }
  });

  it('keeps an owner of A away from members of B: adding only invites, and no view or reset reaches them (page and API)', async () => {
    const a = (await store().organizations.findBySlug('a'))!;
    const ownerA = browsers.get('owner of A')!;
    const tokenA = tokens.get('owner of A')!;
    const memberOfB = await fixture.twofold.app.users.create(OPERATOR, { email: `b-member${++targetCounter}@b.test`, password: PASSWORD, orgs: [{ slug: 'b', role: 'member' }] });
    await store().secondFactors.enable({ userId: memberOfB.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });

    const byPage = await postForm(ownerA, '/admin/orgs/a/members', { email: memberOfB.email, role: 'owner' });
    expect(byPage.html).toMatch(/e-mailed an invitation\. They join when they accept it/);
    const byApi = await callApi(fixture.twofold.url, tokenA, 'POST', '/admin/api/organizations/a/members', { email: memberOfB.email });
    expect(byApi.json).toStrictEqual({ email: memberOfB.email, status: 'invited' });
    expect(await store().memberships.find(a.id, memberOfB.id)).toBeNull();

    for (const path of [`/admin/orgs/a/members/${memberOfB.id}/disable-2fa`]) expect((await ownerA.request(path)).status).toBe(404);
    for (const path of [`/admin/orgs/a/members/${memberOfB.id}/disable-2fa`, `/admin/orgs/a/members/${memberOfB.id}/role`, `/admin/orgs/a/members/${memberOfB.id}/remove`]) {
      expect([path, (await postForm(ownerA, path, { role: 'member' })).status]).toStrictEqual([path, 404]);
    }
    for (const [method, path] of [['POST', `/admin/api/organizations/a/members/${memberOfB.id}/disable-2fa`], ['PUT', `/admin/api/organizations/a/members/${memberOfB.id}/role`], ['DELETE', `/admin/api/organizations/a/members/${memberOfB.id}`]] as const) {
      expect([path, (await callApi(fixture.twofold.url, tokenA, method, path, method === 'PUT' ? { role: 'member' } : {})).status]).toStrictEqual([path, 404]);
    }
    const members = await callApi(fixture.twofold.url, tokenA, 'GET', '/admin/api/organizations/a/members');
    expect(JSON.stringify(members.json)).not.toContain(memberOfB.email);
    expect(await store().secondFactors.find(memberOfB.id)).not.toBeNull();
    expect((await store().memberships.listByUser(memberOfB.id)).length).toBe(1);
  });

  it('lets an owner of A reset 2FA only for accounts that belong to A alone (page and API)', async () => {
    const ownerA = browsers.get('owner of A')!;
    const tokenA = tokens.get('owner of A')!;
    const inBoth = await fixture.twofold.app.users.create(OPERATOR, { email: `both${++targetCounter}@a.test`, password: PASSWORD, orgs: [{ slug: 'a', role: 'member' }, { slug: 'b', role: 'member' }] });
    const siteAdminInA = await fixture.twofold.app.users.create(OPERATOR, { email: `admin${++targetCounter}@a.test`, password: PASSWORD, siteAdmin: true, orgs: [{ slug: 'a', role: 'member' }] });
    const onlyA = await freshTarget();
    for (const target of [inBoth.id, siteAdminInA.id]) {
      await store().secondFactors.enable({ userId: target, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
      expect((await postForm(ownerA, `/admin/orgs/a/members/${target}/disable-2fa`, { reason: 'x' })).status).toBe(403);
      const api = await callApi(fixture.twofold.url, tokenA, 'POST', `/admin/api/organizations/a/members/${target}/disable-2fa`, {});
      expect([api.status, api.json.error]).toStrictEqual([403, 'forbidden']);
      expect(await store().secondFactors.find(target)).not.toBeNull();
    }
    expect((await callApi(fixture.twofold.url, tokenA, 'POST', `/admin/api/organizations/a/members/${onlyA}/disable-2fa`, {})).status).toBe(200);
    expect(await store().secondFactors.find(onlyA)).toBeNull();
    // A site admin may.
    expect((await postForm(browsers.get('site admin')!, `/admin/orgs/a/members/${inBoth.id}/disable-2fa`, { reason: 'verified by phone' })).status).toBe(200);
    expect(await store().secondFactors.find(inBoth.id)).toBeNull();
    // Only the 2FA resets: B's owner guessing A's members' ids (above) is recorded in A's log too.
    const refusals = (await store().audit.list((await store().organizations.findBySlug('a'))!.id, { limit: 500, offset: 0 })).events.filter((event) => event.action === 'action.refused' && event.details.attempted === 'two_factor.reset');
    expect(refusals.map((event) => event.targetId).sort()).toStrictEqual([inBoth.id, inBoth.id, siteAdminInA.id, siteAdminInA.id].sort());
  });
});
