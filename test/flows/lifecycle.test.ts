import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { OPERATOR } from '../../src/application/actor.js';
import type { User } from '../../src/application/types.js';
import { adminApiToken, adminBrowser, callApi, postForm } from '../support/admin.js';
import { Browser, formAction } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutReceiver, verifyLogoutToken } from '../support/logout-receiver.js';
import { REDIRECT_URI, discover, exchangeCode, oidc, signInAndAllow, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { TestSmtpServer } from '../support/smtp.js';
import { freePort, startTestInstance, tempDir, waitForLogLine, type TestInstance } from '../support/twofold.js';

const PASSWORD = 'a long enough password';
const SUSPENDED = "This account is suspended. Ask your organization's owner or IT team.";

/** The OAuth error openid-client rejected with, from the response body or a WWW-Authenticate challenge. */
async function oauthErrorOf(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (caught) {
    const error = caught as { error?: string; cause?: { error?: string } | Array<{ parameters?: { error?: string } }> };
    const fromChallenge = Array.isArray(error.cause) ? error.cause[0]?.parameters?.error : error.cause?.error;
    return error.error ?? fromChallenge ?? String(error);
  }
  return 'none: the request succeeded';
}

/** Where a relying party's sign-in ends: the code it got, or the error. */
const answerOf = (location: string) => {
  const query = new URL(location).searchParams;
  return { code: query.get('code') !== null, error: query.get('error') };
};

/** Several rounds of the worker loop (OUTBOX_POLL_SECONDS=1): anything sent twice would show. */
const someRounds = () => sleep(2500);

describe('people leave: Suspend account tells the applications, exactly once, also across a restart', () => {
  it('shuts the account out of every path to a token, and the portal gets one valid logout token although it was down until after a restart', async () => {
    const smtp = new TestSmtpServer();
    const receiver = new LogoutReceiver();
    const receiverPort = await freePort();
    const env = { DATA_DIR: tempDir(), SMTP_URL: await smtp.start(), OUTBOX_POLL_SECONDS: '1', OUTBOX_RETRY_SECONDS: '1' };
    let twofold = await startTestInstance(env);
    try {
      const app = twofold.app;
      await app.organizations.create(OPERATOR, 'county', 'County');
      await app.users.create(OPERATOR, { email: 'olivia@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
      const max = await app.users.create(OPERATOR, { email: 'max@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'member' }] });
      await app.clients.create(OPERATOR, { clientId: 'portal', redirectUris: [REDIRECT_URI], firstParty: true, backchannelLogoutUri: LogoutReceiver.uriAt(receiverPort) });
      let rp = await discover(twofold.url, 'portal');

      // Max is signed in at the portal (a session and a refresh token), on his account page, and has an admin API token.
      const maxBrowser = new Browser(twofold.url);
      const pending = await startSignIn(rp, { scope: 'openid email offline_access', prompt: 'consent' });
      const tokens = await exchangeCode(rp, await signInAndAllow(maxBrowser, pending, 'max@county.test', PASSWORD), pending);
      const sid = tokens.claims()!.sid;
      expect([typeof sid, Boolean(tokens.refresh_token)]).toStrictEqual(['string', true]);
      expect((await maxBrowser.visit('/account')).html).toContain('Your account');
      const apiToken = await adminApiToken(twofold.url, 'max@county.test', PASSWORD);
      expect((await callApi(twofold.url, apiToken, 'GET', '/admin/api/organizations')).status).toBe(200);

      // The owner suspends him from his row of the members page, while the portal's logout endpoint is down.
      const { browser: owner } = await adminBrowser(twofold.url, 'olivia@county.test', PASSWORD);
      const members = await owner.visit('/admin/orgs/county/members');
      expect(members.html).toContain(`aria-label="Suspend account of max@county.test">Suspend account</a>`);
      const confirm = await owner.visit(`/admin/orgs/county/members/${max.id}/suspend`);
      expect(confirm.html).toContain('<h1>Suspend the account of max@county.test?</h1>');
      expect(confirm.html).toMatch(/<button class="primary" type="submit">Suspend account<\/button>/);
      const done = await owner.submit(confirm, formAction(confirm.html, '/suspend'), { reason: 'left the county on 31 May' });
      expect([done.status, done.url]).toStrictEqual([200, `${twofold.url}/admin/orgs/county/members?done=suspended`]);
      expect(done.html).toContain('The account was suspended.');
      expect(done.html).toContain('<strong class="status-off">Suspended</strong>');

      // The next sign-in: refused after the right password, with the sentence; a wrong password gets the usual one.
      const refused = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), 'max@county.test', PASSWORD);
      expect([refused.status, refused.html.includes(SUSPENDED)]).toStrictEqual([403, true]);
      const wrong = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), 'max@county.test', 'not his password');
      expect([wrong.status, wrong.html.includes('Email or password is incorrect.'), wrong.html.includes('suspended')]).toStrictEqual([401, true, false]);
      expect(await (await fetch(`${twofold.url}/metrics`)).text()).toMatch(/^twofold_sign_ins_total\{outcome="suspended"\} 1$/m);
      // His browser's single sign-on gives no code, silently or not.
      const silent = await startSignIn(rp, { prompt: 'none' });
      expect(answerOf((await maxBrowser.visit(silent.url.href)).url)).toStrictEqual({ code: false, error: 'login_required' });
      // His refresh token, his admin API token, his account page: all refused.
      expect(await oauthErrorOf(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
      const api = await callApi(twofold.url, apiToken, 'GET', '/admin/api/organizations');
      expect([api.status, api.json.error]).toStrictEqual([401, 'invalid_token']);
      const account = await maxBrowser.request('/account');
      expect([account.status, account.headers.get('location')]).toStrictEqual([302, expect.stringContaining('/auth?')]);
      expect(await twofold.store.oidc.sessionsOf(max.id)).toStrictEqual([]);
      // Kept for a reactivation: his membership.
      expect((await twofold.store.memberships.listByUser(max.id)).map((membership) => membership.role)).toStrictEqual(['member']);

      const mail = await smtp.waitFor('max@county.test', /^Your account was suspended$/);
      expect(mail.text).toContain('left the county on 31 May');
      const county = (await twofold.store.organizations.findBySlug('county'))!;
      const [suspension] = (await twofold.store.audit.list(county.id, { limit: 50, offset: 0 })).events.filter((event) => event.action === 'account.suspended');
      expect(suspension).toMatchObject({ actorEmail: 'olivia@county.test', targetEmail: 'max@county.test', details: { reason: 'left the county on 31 May' } });

      // The portal is down: Twofold keeps the token to send, stops, starts again; then the portal comes up.
      await waitForLogLine(twofold, (line) => line.includes('logout token not taken by the application; will retry') && line.includes('"clientId":"portal"'));
      expect(await (await fetch(`${twofold.url}/metrics`)).text()).toMatch(/^twofold_logout_tokens_total\{outcome="retried"\} [1-9]\d*$/m);
      await twofold.close();
      await sleep(200);
      twofold = await startTestInstance({ ...env, PORT: new URL(twofold.url).port });
      await receiver.start(receiverPort);
      const [token] = await receiver.waitForTokens(1);
      await someRounds();
      expect(receiver.tokens).toHaveLength(1);
      expect(await (await fetch(`${twofold.url}/metrics`)).text()).toMatch(/^twofold_logout_tokens_total\{outcome="sent"\} 1$/m);
      const claims = await verifyLogoutToken(token!, twofold.url, 'portal');
      expect(claims).toMatchObject({ iss: twofold.url, aud: 'portal', sub: max.id, sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
      expect(typeof claims.jti).toBe('string');
      expect(claims).not.toHaveProperty('nonce');

      // Reactivated (the owner's session lived through the restart), he signs in again.
      rp = await discover(twofold.url, 'portal');
      const reactivate = await owner.visit(`/admin/orgs/county/members/${max.id}/reactivate`);
      const reactivated = await owner.submit(reactivate, formAction(reactivate.html, '/reactivate'), { reason: 'came back' });
      expect(reactivated.html).toContain('The account was reactivated.');
      await smtp.waitFor('max@county.test', /^Your account was reactivated$/);
      const back = await startSignIn(rp);
      const signedIn = await exchangeCode(rp, await signInAndAllow(new Browser(twofold.url), back, 'max@county.test', PASSWORD), back);
      expect(signedIn.claims()!.sub).toBe(max.id);
    } finally {
      await twofold.close();
      await receiver.close();
      await smtp.close();
    }
  });
});

describe('people leave: who may, deletion, and the checks that hold even for a session that outlives a suspension', () => {
  let twofold: TestInstance;
  let smtp: TestSmtpServer;
  const receiver = new LogoutReceiver();
  let rp: oidc.Configuration;
  let owner: Browser;
  let ownerToken: string;
  let people = 0;
  const person = (orgs: Array<{ slug: string; role: 'owner' | 'member' }>, extra: { siteAdmin?: boolean } = {}) => {
    people += 1;
    return twofold.app.users.create(OPERATOR, { email: `person${people}@county.test`, name: `Person ${people}`, password: PASSWORD, orgs, ...extra });
  };
  const auditOf = async (slug: string) => (await twofold.store.audit.list((await twofold.store.organizations.findBySlug(slug))!.id, { limit: 500, offset: 0 })).events;
  const signedIn = async (email: string, scope = 'openid email offline_access') => {
    const browser = new Browser(twofold.url);
    const pending = await startSignIn(rp, { scope, prompt: 'consent' });
    return { browser, tokens: await exchangeCode(rp, await signInAndAllow(browser, pending, email, PASSWORD), pending) };
  };

  beforeAll(async () => {
    smtp = new TestSmtpServer();
    twofold = await startTestInstance({ SMTP_URL: await smtp.start(), OUTBOX_POLL_SECONDS: '1', OUTBOX_RETRY_SECONDS: '1' });
    const app = twofold.app;
    await app.organizations.create(OPERATOR, 'county', 'County');
    await app.organizations.create(OPERATOR, 'parks', 'Parks');
    await app.users.create(OPERATOR, { email: 'olivia@county.test', password: PASSWORD, orgs: [{ slug: 'county', role: 'owner' }] });
    await app.users.create(OPERATOR, { email: 'pat@parks.test', password: PASSWORD, orgs: [{ slug: 'parks', role: 'owner' }] });
    await app.clients.create(OPERATOR, { clientId: 'portal', redirectUris: [REDIRECT_URI], firstParty: true, backchannelLogoutUri: await receiver.start() });
    rp = await discover(twofold.url, 'portal');
    owner = (await adminBrowser(twofold.url, 'olivia@county.test', PASSWORD)).browser;
    ownerToken = await adminApiToken(twofold.url, 'olivia@county.test', PASSWORD);
  });
  afterAll(async () => {
    await twofold.close();
    await receiver.close();
    await smtp.close();
  });

  it('refuses a session and a refresh token of a suspended account even where they outlived the suspension', async () => {
    const target = await person([{ slug: 'county', role: 'member' }]);
    const { browser, tokens } = await signedIn(target.email);
    // As if a suspension raced a sign-in: the account is suspended in the store, its session and tokens still there.
    expect(await twofold.store.users.suspend(target.id, new Date())).toBe('suspended');
    expect(await twofold.store.oidc.sessionsOf(target.id)).toHaveLength(1);
    const silent = await startSignIn(rp, { prompt: 'none' });
    expect(answerOf((await browser.visit(silent.url.href)).url)).toStrictEqual({ code: false, error: 'login_required' });
    // Without prompt=none the session is not enough: the sign-in page, which refuses the password.
    const interactive = await browser.visit((await startSignIn(rp)).url.href);
    expect(interactive.html).toContain('<label for="password">Password</label>');
    const refused = await browser.submit(interactive, formAction(interactive.html, '/login'), { email: target.email, password: PASSWORD });
    expect([refused.status, refused.html.includes(SUSPENDED)]).toStrictEqual([403, true]);
    expect(await oauthErrorOf(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
    expect(await oauthErrorOf(oidc.fetchUserInfo(rp, tokens.access_token, target.id))).toBe('invalid_token');
  });

  it('deletes an account: every personal record gone from the database file, the audit log pseudonymized, the address free again', async () => {
    const ada = await twofold.app.users.create(OPERATOR, { email: 'ada@county.test', name: 'Ada Lovelace', password: PASSWORD, orgs: [{ slug: 'county', role: 'member' }] });
    const { browser: adaBrowser, tokens } = await signedIn('ada@county.test');
    const store = twofold.store;
    const later = new Date(Date.now() + 3_600_000);
    await store.securityKeys.add({ credentialId: 'ada-key', userId: ada.id, name: 'Blue key', publicKey: 'pk', counter: 0, transports: [], synced: false }, { recoveryKeyId: 'k', recoveryCodeHashes: ['r1', 'r2'] });
    await store.rememberedBrowsers.create({ userId: ada.id, tokenHash: 'ada-browser', description: 'Firefox', createdAt: new Date(), expiresAt: later });
    await store.identityLinks.link('https://idp.test', 'upstream-ada', ada.id);
    await twofold.app.passwordLinks.sendReset(ada);
    await twofold.app.members.add((await store.users.findByEmail('pat@parks.test'))!, 'parks', { email: 'ada@county.test', role: 'member' }, null);
    expect(await store.membershipInvitations.listByUser(ada.id)).toHaveLength(1);
    await smtp.waitFor('ada@county.test', /^Set a new password$/);
    // A message still waiting for its turn, addressed to her.
    await store.outbox.enqueue({ id: '00000000-0000-4000-8000-0000000000ad', message: 'two-factor-enabled', to: 'ada@county.test', subject: 'later', sealedBody: 'sealed', queuedAt: later, giveUpAt: later });

    const confirm = await owner.visit(`/admin/orgs/county/members/${ada.id}/delete`);
    expect(confirm.html).toContain('<label for="confirmEmail">Type ada@county.test to confirm</label>');
    const mistyped = await owner.submit(confirm, formAction(confirm.html, '/delete'), { confirmEmail: 'ada@county.tset' });
    expect([mistyped.status, mistyped.html]).toStrictEqual([400, expect.stringContaining('To delete this account, type its email address (ada@county.test) exactly.')]);
    expect(await store.users.findById(ada.id)).not.toBeNull();
    const deleted = await owner.submit(confirm, formAction(confirm.html, '/delete'), { confirmEmail: ' Ada@County.test ', reason: 'asked to be forgotten' });
    expect([deleted.status, deleted.html]).toStrictEqual([200, expect.stringContaining('The account was deleted, with its personal data.')]);

    // The applications are told; her tokens and sessions are gone with her.
    const [token] = await receiver.waitForTokens(1);
    expect(await verifyLogoutToken(token!, twofold.url, 'portal')).toMatchObject({ sub: ada.id, sid: tokens.claims()!.sid });
    expect(await oauthErrorOf(oidc.refreshTokenGrant(rp, tokens.refresh_token!))).toBe('invalid_grant');
    expect(answerOf((await adaBrowser.visit((await startSignIn(rp, { prompt: 'none' })).url.href)).url)).toStrictEqual({ code: false, error: 'login_required' });
    // The deletion e-mail is the last message to her address: nothing waits for it, nothing was left from before.
    const goodbye = await smtp.waitFor('ada@county.test', /^Your account was deleted$/);
    expect(goodbye.text).toContain('asked to be forgotten');
    await someRounds();

    // In the database file, her address appears only in the row of that last e-mail, her name, hash and id nowhere but the pseudonymized audit and the logout notice.
    const db = new Database(path.join(twofold.config.dataDir, 'twofold.db'), { readonly: true });
    const mentions: Array<{ table: string; row: string }> = [];
    try {
      for (const { name } of db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all()) {
        for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) {
          const text = JSON.stringify(row);
          if (/ada@county\.test|Ada Lovelace|upstream-ada|ada-key|ada-browser/i.test(text) || text.includes(ada.id)) mentions.push({ table: name, row: text });
        }
      }
    } finally {
      db.close();
    }
    const outboxMentions = mentions.filter((mention) => mention.table === 'outbox');
    expect(outboxMentions.map((mention) => JSON.parse(mention.row) as { message: string })).toStrictEqual([expect.objectContaining({ message: 'account-deleted', recipient: 'ada@county.test', state: 'sent', sealed_body: null })]);
    expect([...new Set(mentions.filter((mention) => mention.table !== 'outbox').map((mention) => mention.table))].sort()).toStrictEqual(['audit_events', 'logout_notices']);
    for (const mention of mentions.filter((found) => found.table === 'audit_events')) expect(mention.row).not.toMatch(/ada@county\.test|Ada Lovelace/i);

    // The audit log keeps its shape, with a pseudonym.
    const entries = (await auditOf('county')).filter((event) => event.targetId === ada.id);
    expect(new Set(entries.map((event) => event.targetEmail))).toStrictEqual(new Set([expect.stringMatching(/^deleted user [0-9a-f]{8}$/)]));
    expect(entries.map((event) => event.action)).toEqual(expect.arrayContaining(['account.deleted', 'member.added']));
    const auditPage = await owner.visit('/admin/orgs/county/audit');
    expect(auditPage.html).toMatch(/The account of deleted user [0-9a-f]{8} was deleted, with its personal data\. Reason given: asked to be forgotten\./);
    expect(auditPage.html).not.toContain('ada@county.test');

    // The address is free for a new, unrelated account.
    const newAda = await twofold.app.users.create(OPERATOR, { email: 'ada@county.test', name: 'Another Ada', password: 'another long password' });
    expect(newAda.id).not.toBe(ada.id);
    const fresh = await startSignIn(rp, { scope: 'openid email organizations' });
    const freshTokens = await exchangeCode(rp, await signInAndAllow(new Browser(twofold.url), fresh, 'ada@county.test', 'another long password'), fresh);
    expect(freshTokens.claims()).toMatchObject({ sub: newAda.id, email: 'ada@county.test', organizations: [] });
    expect(await store.secondFactors.find(newAda.id)).toBeNull();
    expect(await store.membershipInvitations.listByUser(newAda.id)).toStrictEqual([]);
  });

  it('refuses an owner who would suspend or delete a member of two organizations, a site admin or another organization\'s member: nothing changes, and it is audited', async () => {
    const inBoth = await person([{ slug: 'county', role: 'member' }, { slug: 'parks', role: 'member' }]);
    const siteAdmin = await person([{ slug: 'county', role: 'member' }], { siteAdmin: true });
    const parksOnly = await person([{ slug: 'parks', role: 'member' }]);
    const refusedFor = (user: User) => (user.siteAdmin ? 'site admin' : 'also in another organization');

    for (const target of [inBoth, siteAdmin]) {
      const page = await owner.visit(`/admin/orgs/county/members/${target.id}/suspend`);
      expect(page.html).toContain(`<h1>Only a site admin can suspend the account of ${target.email}</h1>`);
      const byPage = await postForm(owner, `/admin/orgs/county/members/${target.id}/suspend`, { reason: 'left' });
      expect([byPage.status, byPage.html]).toStrictEqual([403, expect.stringContaining(`<h1>Only a site admin can suspend the account of ${target.email}</h1>`)]);
      const sentence = await callApi(twofold.url, ownerToken, 'POST', `/admin/api/organizations/county/members/${target.id}/suspend`, { reason: 'left' });
      expect(sentence.json.error_description).toBe(target.siteAdmin
        ? `${target.email} is a site admin; only another site admin can suspend their account.`
        : `${target.email} also belongs to another organization, so only a site admin can suspend their account. Ask a site admin of this site.`);
      const deleteByPage = await postForm(owner, `/admin/orgs/county/members/${target.id}/delete`, { confirmEmail: target.email });
      expect(deleteByPage.status).toBe(403);
      const removeAndSuspend = await postForm(owner, `/admin/orgs/county/members/${target.id}/remove`, { suspendAccount: 'on', reason: 'left' });
      expect(removeAndSuspend.status).toBe(403);
      for (const [route, body] of [['suspend', { reason: 'left' }], ['delete-account', { confirmEmail: target.email }]] as const) {
        const byApi = await callApi(twofold.url, ownerToken, 'POST', `/admin/api/organizations/county/members/${target.id}/${route}`, body);
        expect([route, byApi.status, byApi.json.error]).toStrictEqual([route, 403, 'forbidden']);
      }
      const after = await twofold.store.users.findById(target.id);
      expect([after?.suspendedAt, (await twofold.store.memberships.listByUser(target.id)).length]).toStrictEqual([null, target.siteAdmin ? 1 : 2]);
      const refusals = (await auditOf('county')).filter((event) => event.action === 'action.refused' && event.targetId === target.id);
      expect(refusals.map((event) => [event.details.attempted, event.details.reason, event.actorEmail]).sort()).toStrictEqual([
        ['account.delete', refusedFor(target), 'olivia@county.test'],
        ['account.delete', refusedFor(target), 'olivia@county.test'],
        ['account.suspend', refusedFor(target), 'olivia@county.test'],
        ['account.suspend', refusedFor(target), 'olivia@county.test'],
        ['account.suspend', refusedFor(target), 'olivia@county.test'],
        ['account.suspend', refusedFor(target), 'olivia@county.test'],
      ]);
    }

    // Someone of Parks only, named by id through County's pages: not found, as for a made-up id — and Parks's owners see the attempt.
    expect((await postForm(owner, `/admin/orgs/county/members/${parksOnly.id}/suspend`, { reason: 'x' })).status).toBe(404);
    expect((await callApi(twofold.url, ownerToken, 'POST', `/admin/api/organizations/county/members/${parksOnly.id}/delete-account`, { confirmEmail: parksOnly.email })).status).toBe(404);
    expect((await callApi(twofold.url, ownerToken, 'POST', `/admin/api/site/users/${parksOnly.id}/suspend`, { reason: 'x' })).status).toBe(403);
    expect(await twofold.store.users.findById(parksOnly.id)).toStrictEqual(parksOnly);
    const seenByParks = (await auditOf('parks')).filter((event) => event.action === 'action.refused' && event.targetId === parksOnly.id);
    expect(seenByParks.map((event) => [event.details.attempted, event.details.reason])).toStrictEqual([['account.delete', 'not a member of county'], ['account.suspend', 'not a member of county']]);
  });

  it('offers Suspend the account too when removing a member of this organization alone, and needs a reason for it', async () => {
    const leaving = await person([{ slug: 'county', role: 'member' }]);
    const inBoth = await person([{ slug: 'county', role: 'member' }, { slug: 'parks', role: 'member' }]);
    expect((await owner.visit(`/admin/orgs/county/members/${inBoth.id}/remove`)).html).not.toContain('Suspend the account too');
    const confirm = await owner.visit(`/admin/orgs/county/members/${leaving.id}/remove`);
    expect(confirm.html).toMatch(/<input id="suspendAccount" type="checkbox" name="suspendAccount" value="on"[^>]*>\s*<label for="suspendAccount">Suspend the account too<\/label>/);
    const noReason = await owner.submit(confirm, formAction(confirm.html, '/remove'), { suspendAccount: 'on', reason: ' ' });
    expect([noReason.status, noReason.html]).toStrictEqual([400, expect.stringContaining('Say why: the reason is kept in the audit log and e-mailed to the person.')]);
    expect([(await twofold.store.users.findById(leaving.id))?.suspendedAt, (await twofold.store.memberships.listByUser(leaving.id)).length]).toStrictEqual([null, 1]);

    const removed = await owner.submit(confirm, formAction(confirm.html, '/remove'), { suspendAccount: 'on', reason: 'contract ended' });
    expect(removed.html).toContain('The member was removed, and their account suspended');
    expect((await twofold.store.users.findById(leaving.id))?.suspendedAt).toBeInstanceOf(Date);
    expect(await twofold.store.memberships.listByUser(leaving.id)).toStrictEqual([]);
    const refused = await signInWithPassword(new Browser(twofold.url), await startSignIn(rp), leaving.email, PASSWORD);
    expect(refused.html).toContain(SUSPENDED);
    // The API does the same; the account must be this organization's alone there too.
    const another = await person([{ slug: 'county', role: 'member' }]);
    const byApi = await callApi(twofold.url, ownerToken, 'DELETE', `/admin/api/organizations/county/members/${another.id}`, { suspendAccount: true, reason: 'contract ended' });
    expect([byApi.status, byApi.json]).toStrictEqual([200, { removed: another.email, suspended: true }]);
    const refusedByApi = await callApi(twofold.url, ownerToken, 'DELETE', `/admin/api/organizations/county/members/${inBoth.id}`, { suspendAccount: true, reason: 'x' });
    expect(refusedByApi.status).toBe(403);
    expect((await twofold.store.memberships.listByUser(inBoth.id)).length).toBe(2);
  });

  it('never suspends or deletes the last active site admin — on the pages, the API or the command line', async () => {
    const root = await person([], { siteAdmin: true });
    const { browser, secret } = await adminBrowser(twofold.url, root.email, PASSWORD);
    // Earlier tests made site admins too: suspend them, so that root is the last active one.
    for (const other of (await twofold.store.users.search('county.test', { limit: 100, offset: 0 })).users.filter((user) => user.siteAdmin && user.id !== root.id && user.suspendedAt === null)) {
      await twofold.app.users.suspend(OPERATOR, other.id, 'tidying up', null);
    }
    const page = await browser.visit(`/admin/site/users/${root.id}/suspend`);
    const bySelf = await browser.submit(page, formAction(page.html, '/suspend'), { reason: 'testing' });
    expect([bySelf.status, bySelf.html]).toStrictEqual([409, expect.stringContaining(`${root.email} is the last active site admin`)]);
    const token = await adminApiToken(twofold.url, root.email, PASSWORD, { secret: secret!, step: 1 });
    const byApi = await callApi(twofold.url, token, 'POST', `/admin/api/site/users/${root.id}/delete`, { confirmEmail: root.email });
    expect([byApi.status, byApi.json.error]).toStrictEqual([409, 'conflict']);
    const byCli = await cli(twofold.config.dataDir, ['user', 'suspend', root.email, '--reason', 'testing'], { env: { MONGODB_URI: '' } });
    expect([byCli.status, byCli.err]).toStrictEqual([1, [`twofold: ${root.email} is the last active site admin: without them nobody could run this site. Make another site admin first.`]]);
    expect((await twofold.store.users.findById(root.id))?.suspendedAt).toBeNull();

    // With another active site admin, the command line may.
    const second = await person([], { siteAdmin: true });
    const suspended = await cli(twofold.config.dataDir, ['user', 'suspend', root.email, '--reason', 'on leave'], { env: { MONGODB_URI: '' } });
    expect([suspended.status, suspended.out]).toStrictEqual([0, [`${root.email} is suspended: signed out everywhere, the applications told, and e-mailed.`]]);
    const last = await cli(twofold.config.dataDir, ['user', 'delete', second.email, '--confirm', second.email], { env: { MONGODB_URI: '' } });
    expect(last.status).toBe(1);
    expect(await twofold.store.users.findById(second.id)).not.toBeNull();
    const reactivated = await cli(twofold.config.dataDir, ['user', 'reactivate', root.email, '--reason', 'back from leave'], { env: { MONGODB_URI: '' } });
    expect([reactivated.status, (await twofold.store.users.findById(root.id))?.suspendedAt]).toStrictEqual([0, null]);
  });
});
