import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { isSlug } from '../../src/application/validation.js';
import { Browser, csrfTokenOf, formAction, type Page } from '../support/browser.js';
import { REDIRECT_URI, discover, oidc, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, setupKeyOf } from '../support/second-factor.js';
import { startTestInstance, type TestInstance } from '../support/twofold.js';
import { adminBrowser, apiTokenFrom, callApi, postForm } from '../support/admin.js';
import { cli } from '../support/cli.js';

const PASSWORD = 'a long enough password';

/** What people and attackers type into fields: each must get a 4xx and a sentence, never a 500. */
const CORPUS: readonly string[] = [
  '',
  ' ',
  'abc',
  '12345',
  '1234567',
  '12345a',
  '１２３４５６',
  '12\u00003456',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '${7*7}{{7*7}}',
  '%00%0d%0a',
  '😀😀😀😀😀😀',
  '-'.repeat(40),
  'a'.repeat(5000),
];

describe('bad input to every form field', () => {
  let twofold: TestInstance;
  let rp: oidc.Configuration;

  beforeAll(async () => {
    twofold = await startTestInstance();
    await twofold.app.organizations.create(OPERATOR, 'city', 'City');
    await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
    await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
    rp = await discover(twofold.url, 'app');
  });
  afterAll(() => twofold.close());

  const post = (browser: Browser, page: Page, action: string, fields: Record<string, string>) => browser.submit(page, formAction(page.html, action), fields);
  /** A 4xx, a sentence announced to screen readers, and no stack trace. */
  const expectRefused = (page: Page, label: string) => {
    const announced = /role="alert"/.test(page.html);
    const stackTrace = /at [\w.]+ \(|node_modules|Error:/.test(page.html);
    expect({ label, status: page.status, announced, stackTrace }).toStrictEqual({ label, status: expect.toBeWithinRange(400, 499), announced: true, stackTrace: false });
  };

  it('sign-in: email and password', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'login@city.test', password: PASSWORD });
    for (const value of CORPUS) {
      for (const fields of [{ email: value, password: PASSWORD }, { email: 'login@city.test', password: value }]) {
        const browser = new Browser(twofold.url);
        const page = await browser.visit((await startSignIn(rp)).url.href);
        expectRefused(await post(browser, page, '/login', fields), `login ${JSON.stringify(fields).slice(0, 60)}`);
      }
    }
  });

  it('setup: token — and nothing is enabled', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'setup@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    const browser = new Browser(twofold.url);
    const setup = await signInWithPassword(browser, await startSignIn(rp), 'setup@city.test', PASSWORD);
    for (const token of [...CORPUS, '000000', '123456']) {
      const page = await post(browser, setup, '/setup', { token });
      expectRefused(page, `token ${JSON.stringify(token).slice(0, 30)}`);
      expect(page.html).toMatch(/A passcode has|Enter the 6-digit passcode|That code is not valid or has expired\./);
    }
    // With a right passcode, every malformed e-mailed code is refused with a sentence (five well-formed wrong ones end it).
    const secret = setupKeyOf(setup.html);
    for (const emailCode of CORPUS.filter((value) => !/^\s*\d{6}\s*$/.test(value))) {
      const page = await post(browser, setup, '/setup', { token: await codeAt(secret), emailCode });
      expectRefused(page, `emailCode ${JSON.stringify(emailCode).slice(0, 30)}`);
      expect(page.html).toMatch(/Enter the 6-digit code we e-mailed to you\.|The e-mailed code has 6 digits\./);
    }
    const user = await twofold.store.users.findByEmail('setup@city.test');
    expect(await twofold.store.secondFactors.find(user!.id)).toBeNull();
  });

  it('challenge and recovery: passcode and recovery code — and nobody gets in', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'challenge@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    const first = new Browser(twofold.url);
    await completeSetup(first, await signInWithPassword(first, await startSignIn(rp), 'challenge@city.test', PASSWORD));
    const user = await twofold.store.users.findByEmail('challenge@city.test');
    const before = await twofold.store.secondFactors.find(user!.id);

    const browser = new Browser(twofold.url);
    const challenge = await signInWithPassword(browser, await startSignIn(rp), 'challenge@city.test', PASSWORD);
    const recovery = await browser.visit(new URL(/href="([^"]+\/recovery)"/.exec(challenge.html)![1]!, challenge.url).href);
    for (const value of CORPUS.filter((input) => !/^\d{6}$/.test(input))) {
      expectRefused(await post(browser, challenge, '/challenge', { passcode: value }), `passcode ${JSON.stringify(value).slice(0, 30)}`);
      expectRefused(await post(browser, recovery, '/recovery', { code: value }), `recovery ${JSON.stringify(value).slice(0, 30)}`);
    }
    const after = await twofold.store.secondFactors.find(user!.id);
    // No code was spent and no time step accepted.
    expect(after).toStrictEqual(before);
  });

  it('refuses a missing or forged CSRF token, a non-form body and an oversized form on every form', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'csrf@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
    const browser = new Browser(twofold.url);
    const setup = await signInWithPassword(browser, await startSignIn(rp), 'csrf@city.test', PASSWORD);
    const login = await browser.visit((await startSignIn(rp, { prompt: 'login' })).url.href);
    const forms: Array<[Page, string]> = [[login, '/login'], [login, '/abort'], [setup, '/setup']];
    for (const [page, action] of forms) {
      const url = new URL(formAction(page.html, action), page.url).href;
      for (const token of ['', 'x'.repeat(43), csrfTokenOf(page.html).slice(1)]) {
        const refused = await browser.visit(url, { method: 'POST', body: new URLSearchParams({ _csrf: token, token: '123456' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        expect([action, token, refused.status]).toStrictEqual([action, token, 403]);
      }
      const json = await browser.request(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect([action, 'JSON', json.status]).toStrictEqual([action, 'JSON', 415]);
      const huge = await browser.request(url, { method: 'POST', body: `_csrf=${csrfTokenOf(page.html)}&x=${'a'.repeat(70_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect([action, 'oversized', huge.status]).toStrictEqual([action, 'oversized', 413]);
    }
    const stillSetup = await browser.visit(setup.url);
    // Nothing moved the sign-in forward.
    expect(stillSetup.html).toMatch(/Set up two-factor authentication/);
  });

  it('site console: every field of its forms and its search — a 4xx sentence for what the rules refuse, never a 500, and nothing made by a refusal', async () => {
    await twofold.app.users.create(OPERATOR, { email: 'root@site.test', password: PASSWORD, siteAdmin: true });
    await twofold.app.clients.create(OPERATOR, { clientId: 'confidential', redirectUris: [REDIRECT_URI], secret: 'c'.repeat(40) });
    const { browser } = await adminBrowser(twofold.url, 'root@site.test', PASSWORD);
    const snapshot = async () => JSON.stringify({ organizations: (await twofold.store.organizations.list()).map((o) => o.slug), clients: (await twofold.store.clients.list()).map((c) => [c.clientId, c.sealedSecret]) });
    const before = await snapshot();
    const organization = { name: 'Corpus', slug: 'corpus', ownerEmail: 'owner@corpus.test' };
    const application = { name: 'Corpus', redirectUris: REDIRECT_URI, postLogoutRedirectUris: '', backchannelLogoutUri: '', kind: 'confidential', clientId: 'corpus' };
    for (const value of CORPUS) {
      const refused: Array<[string, Record<string, string>]> = [
        ['/admin/site/organizations', { ...organization, slug: 'not a slug', name: value }],
        ['/admin/site/applications', { ...application, redirectUris: value }],
        ['/admin/site/applications', { ...application, clientId: 'not an id', name: value }],
        ['/admin/site/organizations/city/delete', { confirm: value }],
        ...(isSlug(value) ? [] : [['/admin/site/organizations', { ...organization, slug: value }] as [string, Record<string, string>]]),
        ...(value.trim() === '' ? [] : [
          ['/admin/site/organizations', { ...organization, ownerEmail: value }],
          ['/admin/site/applications', { ...application, postLogoutRedirectUris: value }],
          ['/admin/site/applications', { ...application, backchannelLogoutUri: value }],
        ] as Array<[string, Record<string, string>]>),
        // An empty client id asks for one made from the name.
        ...(value === '' || /^[A-Za-z0-9._~-]{1,128}$/.test(value) ? [] : [['/admin/site/applications', { ...application, clientId: value }] as [string, Record<string, string>]]),
        ...(value === '' || /^\d{1,3}$/.test(value) ? [] : [['/admin/site/applications/confidential/rotate-secret', { graceHours: value }] as [string, Record<string, string>]]),
      ];
      for (const [path, fields] of refused) expectRefused(await postForm(browser, path, fields), `${path} ${JSON.stringify(fields).slice(0, 160)}`);
      const search = await browser.visit(`/admin/site?${new URLSearchParams({ q: value })}`);
      expect([value.slice(0, 20), search.status]).toStrictEqual([value.slice(0, 20), value.trim().length > 254 ? 400 : 200]);
      const rename = await postForm(browser, '/admin/site/organizations/city/rename', { name: value });
      expect([value.slice(0, 20), rename.status]).toStrictEqual([value.slice(0, 20), value.trim() === '' || value.length > 200 ? 400 : 200]);
    }
    await twofold.app.organizations.rename(OPERATOR, 'city', 'City');
    // Every console form checks its CSRF token, before anything else.
    for (const [path, fields] of [
      ['/admin/site/organizations', organization], ['/admin/site/applications', application], ['/admin/site/organizations/city/rename', { name: 'Forged' }],
      ['/admin/site/organizations/city/delete', { confirm: 'city' }], ['/admin/site/applications/confidential/rotate-secret', { graceHours: '0' }], ['/admin/site/applications/confidential/delete', {}],
    ] as Array<[string, Record<string, string>]>) {
      for (const token of ['', 'x'.repeat(43)]) {
        const forged = await browser.visit(path, { method: 'POST', body: new URLSearchParams({ ...fields, _csrf: token }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        expect([path, token, forged.status]).toStrictEqual([path, token, 403]);
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('account lifecycle: a mistyped email, a missing, too long or garbled reason — a sentence and a 4xx on the pages, the API and the command line, and nothing changes', async () => {
    await twofold.app.organizations.create(OPERATOR, 'town', 'Town');
    await twofold.app.users.create(OPERATOR, { email: 'olivia@town.test', password: PASSWORD, orgs: [{ slug: 'town', role: 'owner' }] });
    const max = await twofold.app.users.create(OPERATOR, { email: 'max@town.test', password: PASSWORD, orgs: [{ slug: 'town', role: 'member' }] });
    const { browser: owner } = await adminBrowser(twofold.url, 'olivia@town.test', PASSWORD);
    const token = await apiTokenFrom(owner);
    const member = `/admin/orgs/town/members/${max.id}`;
    const reasons = ['', '   ', 'x'.repeat(300), 'left\u0000the building'];
    const sentences = /Say why: the reason is kept in the audit log and e-mailed to the person\.|Keep the reason to 200 characters; it has \d+\.|The reason cannot contain control characters\./;
    const emails = ['', 'max@town.tset', 'olivia@town.test', 'x'.repeat(5000), '<script>alert(1)</script>'];
    const deletionRefused = /To delete this account, type its email address \(max@town\.test\) exactly\./;

    for (const reason of reasons) {
      const label = JSON.stringify(reason).slice(0, 20);
      for (const [path, fields] of [[`${member}/suspend`, { reason }], [`${member}/remove`, { suspendAccount: 'on', reason }], [`${member}/delete`, { confirmEmail: 'max@town.test', reason }]] as const) {
        if (path.endsWith('/delete') && reason.trim() === '') continue;
        const page = await postForm(owner, path, fields);
        expectRefused(page, `${path} ${label}`);
        expect([label, page.html]).toStrictEqual([label, expect.stringMatching(sentences)]);
      }
      for (const [path, body] of [[`/admin/api/organizations/town/members/${max.id}/suspend`, { reason }], [`/admin/api/site/users/${max.id}/suspend`, { reason }]] as const) {
        const api = await callApi(twofold.url, token, 'POST', path, body);
        // The owner is no site admin: the site-wide route refuses her before it reads the reason.
        if (path.startsWith('/admin/api/site/users')) expect(api.status).toBe(403);
        else expect([label, api.status, api.json.error, api.json.error_description]).toStrictEqual([label, 400, 'invalid_request', expect.stringMatching(sentences)]);
      }
    }
    for (const confirmEmail of emails) {
      const label = confirmEmail.slice(0, 20);
      const page = await postForm(owner, `${member}/delete`, { confirmEmail });
      expectRefused(page, `delete ${label}`);
      expect([label, page.html]).toStrictEqual([label, expect.stringMatching(deletionRefused)]);
      const api = await callApi(twofold.url, token, 'POST', `/admin/api/organizations/town/members/${max.id}/delete-account`, { confirmEmail });
      // The API's body check refuses an address longer than any address first, with its own sentence.
      const refusedByApi = confirmEmail.length > 254 ? /"confirmEmail" must have at most 254 characters\./ : deletionRefused;
      expect([label, api.status, api.json.error_description]).toStrictEqual([label, 400, expect.stringMatching(refusedByApi)]);
    }
    for (const body of [{ reason: 42 }, { reason: ['left'] }, '{"reason": "unterminated', 'reason=left']) {
      const api = await callApi(twofold.url, token, 'POST', `/admin/api/organizations/town/members/${max.id}/suspend`, body);
      expect([JSON.stringify(body), api.status]).toStrictEqual([JSON.stringify(body), expect.toBeWithinRange(400, 415)]);
      expect(typeof api.json.error_description).toBe('string');
    }
    const notSuspended = await postForm(owner, `${member}/reactivate`, { reason: 'back' });
    expectRefused(notSuspended, 'reactivate an active account');
    expect(notSuspended.html).toContain('max@town.test is not suspended.');

    const dataDir = twofold.config.dataDir;
    const run = (argv: string[]) => cli(dataDir, argv, { env: { MONGODB_URI: '' } });
    for (const [argv, status, line] of [
      [['user', 'suspend', 'max@town.test', '--reason', ''], 1, 'twofold: Say why: the reason is kept in the audit log and e-mailed to the person.'],
      [['user', 'suspend', 'max@town.test', '--reason', 'x'.repeat(300)], 1, 'twofold: Keep the reason to 200 characters; it has 300.'],
      [['user', 'suspend', 'max@town.test'], 2, 'twofold: --reason is required.'],
      [['user', 'reactivate', 'max@town.test', '--reason', 'back'], 1, 'twofold: max@town.test is not suspended.'],
      [['user', 'delete', 'max@town.test'], 2, 'twofold: --confirm is required.'],
      [['user', 'delete', 'max@town.test', '--confirm', 'max@town.tset'], 1, 'twofold: To delete this account, type its email address (max@town.test) exactly.'],
      [['user', 'suspend', 'nobody@town.test', '--reason', 'left'], 1, 'twofold: There is no user with the email "nobody@town.test".'],
      [['client', 'create', 'rp', '--redirect-uri', REDIRECT_URI, '--backchannel-logout-uri', 'not a url'], 1, 'twofold: "not a url" is not a valid URL.'],
      [['client', 'create', 'rp', '--redirect-uri', REDIRECT_URI, '--backchannel-logout-uri', 'https://rp.test/logout#x'], 1, 'twofold: "https://rp.test/logout#x" must not contain a fragment (#).'],
      [['client', 'create', 'rp', '--redirect-uri', REDIRECT_URI, '--backchannel-logout-uri', 'ftp://rp.test/logout'], 1, 'twofold: "ftp://rp.test/logout" must be an http or https URL.'],
    ] as const) {
      const result = await run([...argv]);
      expect([argv.join(' ').slice(0, 80), result.status, result.err]).toStrictEqual([argv.join(' ').slice(0, 80), status, [line]]);
    }

    const after = await twofold.store.users.findById(max.id);
    expect([after?.suspendedAt, (await twofold.store.memberships.listByUser(max.id)).length, await twofold.app.clients.exists('rp')]).toStrictEqual([null, 1, false]);
    const town = (await twofold.store.organizations.findBySlug('town'))!;
    expect((await twofold.store.audit.list(town.id, { limit: 100, offset: 0 })).events.filter((event) => event.action.startsWith('account.'))).toStrictEqual([]);
  });

  it('answers unknown interaction paths and methods without a 500', async () => {
    const browser = new Browser(twofold.url);
    const page = await browser.visit((await startSignIn(rp)).url.href);
    for (const suffix of ['/setup', '/challenge', '/recovery', '/continue', '/recovery-codes.txt', '/login/challenge', '/login/recovery', '/nope']) {
      const response = await browser.request(`${page.url}${suffix}`);
      expect([suffix, response.status]).toStrictEqual([suffix, expect.toBeWithinRange(400, 499)]);
    }
    const wrongStep = await post(browser, page, '/login', { email: 'nobody@x.test', password: 'x' });
    expect(wrongStep.status).toBe(401);
    const challengeAtLogin = await browser.visit(`${page.url}/challenge`, { method: 'POST', body: new URLSearchParams({ _csrf: csrfTokenOf(page.html), passcode: '123456' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(challengeAtLogin.status).toBe(400);
    expect(challengeAtLogin.html).toMatch(/This step of the sign-in is already done|has expired/);
  });
});
