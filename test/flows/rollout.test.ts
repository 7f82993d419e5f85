import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { SetupReminders } from '../../src/application/setup-reminders.js';
import { createLogger } from '../../src/log.js';
import { ACR } from '../../src/policy/acr.js';
import { adminBrowser, apiTokenFrom, callApi, postForm } from '../support/admin.js';
import { Browser, formAction, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup } from '../support/second-factor.js';
import { reportSkip } from '../support/skips.js';
import { eventually } from '../support/eventually.js';
import { writeInDatabase } from '../support/twofold.js';

/*
 * Rolling enforcement out (docs/rules.md, "Rolling enforcement out", "Remembered browsers"), through
 * the real app: the grace interstitial, the deadline and every way around it that must fail, the
 * reminder e-mails, and remembered browsers with each way they are revoked. Time is moved by writing
 * earlier dates into the store, never by waiting.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const REMEMBERED_COOKIE = 'twofold.remembered-browser';

describe('rolling enforcement out: grace period, reminders, owners only, remembered browsers', () => {
  let fixture: Fixture;
  const twofold = () => fixture.twofold;
  const app = () => fixture.twofold.app;
  const store = () => fixture.twofold.store;
  const onSqlite = () => store().kind === 'sqlite';
  const user = async (email: string) => (await store().users.findByEmail(email))!;

  /** Moves dates in the embedded database: when enforcement started, when someone joined, when a browser was remembered. */
  const backdate = (statement: string, ...params: unknown[]) => writeInDatabase(twofold(), statement, ...params);
  const organization = async (slug: string, settings: { grace?: number; remember?: number; applyTo?: 'all' | 'owners'; startedDaysAgo?: number } = {}) => {
    await app().organizations.create(OPERATOR, slug, slug[0]!.toUpperCase() + slug.slice(1));
    await app().organizations.setRollout(OPERATOR, slug, { gracePeriodDays: settings.grace ?? 0, rememberBrowserDays: settings.remember ?? 0, applyTo: settings.applyTo ?? 'all' }, null);
    await app().organizations.setForceTwoFactor(OPERATOR, slug, true, null, new Date(Date.now() - (settings.startedDaysAgo ?? 0) * DAY_MS));
  };
  const joinedDaysAgo = async (slug: string, email: string, days: number) => {
    const org = (await store().organizations.findBySlug(slug))!;
    backdate('UPDATE memberships SET created_at = ? WHERE organization_id = ? AND user_id = ?', Date.now() - days * DAY_MS, org.id, (await user(email)).id);
  };
  const signIn = async (email: string, parameters: Record<string, string> = {}, browser = new Browser(twofold().url)) => {
    const pending = await startSignIn(fixture.rp, parameters);
    return { browser, pending, page: await signInWithPassword(browser, pending, email, PASSWORD) };
  };
  const claimsOf = async (page: Page, pending: Awaited<ReturnType<typeof startSignIn>>) => {
    expect(page.url).toStartWith(REDIRECT_URI);
    return (await exchangeCode(fixture.rp, page.url, pending)).claims()!;
  };
  /** A second-factor outcome's counter on /metrics (served to loopback, where the tests run). */
  const outcomeCount = async (outcome: string) => {
    const text = await (await fetch(new URL('/metrics', twofold().url))).text();
    return Number(new RegExp(`^twofold_second_factor_checks_total\\{factor="totp",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
  };
  const auditOf = async (slug: string) => (await store().audit.list((await store().organizations.findBySlug(slug))!.id, { limit: 200, offset: 0 })).events;

  beforeAll(async () => {
    fixture = await startFixture();
  });
  afterAll(() => fixture.close());

  describe('the grace period', () => {
    beforeAll(async () => {
      await organization('harbor', { grace: 14 });
    });

    it('shows the deadline with Set up now and Remind me later; putting it off signs in with the password only', async () => {
      const joinedNoEarlierThan = Date.now();
      const email = await fixture.newUser([{ slug: 'harbor', role: 'member' }]);
      const { browser, pending, page } = await signIn(email);
      const joinedNoLaterThan = Date.now();
      expect(page.status).toBe(200);
      expect(page.html).toMatch(/<h1>Set up two-factor authentication<\/h1>/);
      expect(page.html).toMatch(/14 days left/);
      // Fourteen days from joining; the date is the same at both ends unless a midnight fell between them.
      const dateIn14Days = (from: number) => new Date(from + 14 * DAY_MS).toISOString().slice(0, 10);
      expect([dateIn14Days(joinedNoEarlierThan), dateIn14Days(joinedNoLaterThan)].some((date) => page.html.includes(date))).toBe(true);
      expect(page.html).toMatch(/<button class="primary" type="submit" name="choice" value="setup">Set up now<\/button>/);
      expect(page.html).toMatch(/<button type="submit" name="choice" value="later">Remind me later<\/button>/);
      // Not the setup form yet.
      expect(page.html).not.toMatch(/<label for="token">Token<\/label>/);

      const skippedBefore = await outcomeCount('skipped_in_grace');
      expect(skippedBefore).toBeGreaterThanOrEqual(0);
      const later = await browser.submit(page, formAction(page.html, '/grace'), { choice: 'later' });
      expect(await outcomeCount('skipped_in_grace')).toBe(skippedBefore + 1);
      const claims = await claimsOf(later, pending);
      expect(claims.amr).toStrictEqual(['pwd']);
      expect(claims.acr).toBe(ACR.password);
      expect(await store().secondFactors.find((await user(email)).id)).toBeNull();
    });

    it('Set up now opens the setup, and the sign-in goes on with the second factor', async () => {
      const email = await fixture.newUser([{ slug: 'harbor', role: 'member' }]);
      const { browser, pending, page } = await signIn(email);
      const setup = await browser.submit(page, formAction(page.html, '/grace'), { choice: 'setup' });
      expect(setup.html).toMatch(/<label for="token">Token<\/label>/);
      const { landed } = await completeSetup(browser, setup);
      expect((await claimsOf(landed, pending)).amr).toStrictEqual(['pwd', 'otp', 'mfa']);
    });

    it('gives a relying party that asks for the two-factor level the setup at once, grace or not', async () => {
      const email = await fixture.newUser([{ slug: 'harbor', role: 'member' }]);
      const { page } = await signIn(email, { acr_values: ACR.twoFactor });
      expect(page.html).toMatch(/<label for="token">Token<\/label>/);
      expect(page.html).not.toContain('Remind me later');
    });

    it('refuses a late "Remind me later" and forces the setup once the deadline has passed', async () => {
      if (!onSqlite()) return reportSkip('grace deadline passed', 'dates are moved in the embedded SQLite database');
      await organization('quay', { grace: 14, startedDaysAgo: 15 });
      const email = await fixture.newUser([{ slug: 'quay', role: 'member' }]);
      const { browser, page } = await signIn(email);
      expect(page.html).toContain('Remind me later');
      // Enforcement started 15 days ago, and now the member turns out to have joined before it: the 14-day grace period is over while the page is open.
      await joinedDaysAgo('quay', email, 20);
      const late = await browser.submit(page, formAction(page.html, '/grace'), { choice: 'later' });
      expect(late.url).not.toContain(REDIRECT_URI);
      expect(late.html).toMatch(/<label for="token">Token<\/label>/);

      const again = await signIn(email);
      expect(again.page.html).toMatch(/<label for="token">Token<\/label>/);
      expect(again.page.html).not.toContain('Remind me later');
    });

    it('brings every deadline closer at once when the grace period is lowered (audited with before and after), and a member who joined later gets their own', async () => {
      if (!onSqlite()) return reportSkip('lowered grace period', 'dates are moved in the embedded SQLite database');
      await organization('docks', { grace: 30, startedDaysAgo: 10 });
      const early = await fixture.newUser([{ slug: 'docks', role: 'member' }]);
      await joinedDaysAgo('docks', early, 40);
      const late = await fixture.newUser([{ slug: 'docks', role: 'member' }]);
      expect((await signIn(early)).page.html).toMatch(/20 days left/);
      expect((await signIn(late)).page.html).toMatch(/30 days left/);

      const owner = await fixture.newUser([{ slug: 'docks', role: 'owner' }]);
      const token = await apiTokenFrom((await adminBrowser(twofold().url, owner, PASSWORD)).browser);
      const lowered = await callApi(twofold().url, token, 'PUT', '/admin/api/organizations/docks/policy', { gracePeriodDays: 5 });
      expect(lowered.status).toBe(200);
      expect(lowered.json).toMatchObject({ gracePeriodDays: 5, forceTwoFactor: true });
      // Enforcement started 10 days ago: with 5 days, the early member is past the deadline; the late one has 5 days.
      expect((await signIn(early)).page.html).toMatch(/<label for="token">Token<\/label>/);
      expect((await signIn(late)).page.html).toMatch(/5 days left/);
      expect(await auditOf('docks')).toContainEqual(expect.objectContaining({
        action: 'policy.rollout_changed',
        actorEmail: owner,
        details: expect.objectContaining({ gracePeriodDaysBefore: 30, gracePeriodDaysAfter: 5 }),
      }));

      // Switching enforcement off and on again starts no new grace period.
      await app().organizations.setForceTwoFactor(OPERATOR, 'docks', false, null);
      await app().organizations.setForceTwoFactor(OPERATOR, 'docks', true, null);
      expect((await signIn(early)).page.html).toMatch(/<label for="token">Token<\/label>/);
      expect((await signIn(late)).page.html).toMatch(/5 days left/);
    });

    it('holds only owners to it when it applies to owners only', async () => {
      await organization('museum', { applyTo: 'owners' });
      const member = await fixture.newUser([{ slug: 'museum', role: 'member' }]);
      const owner = await fixture.newUser([{ slug: 'museum', role: 'owner' }]);
      const { page, pending } = await signIn(member);
      expect((await claimsOf(page, pending)).amr).toStrictEqual(['pwd']);
      expect((await signIn(owner)).page.html).toMatch(/<label for="token">Token<\/label>/);
    });

    it('gives the earliest deadline of several organizations, and one that forces at once wins', async () => {
      const email = await fixture.newUser([{ slug: 'harbor', role: 'member' }, { slug: 'city', role: 'member' }]);
      expect((await signIn(email)).page.html).toMatch(/<label for="token">Token<\/label>/);
    });

    it('gives a member who joins by accepting an invitation the same deadline rule, from the day they join', async () => {
      const owner = await fixture.newUser([{ slug: 'harbor', role: 'owner' }]);
      const email = await fixture.newUser([]);
      expect((await app().members.add(await user(owner), 'harbor', { email, role: 'member' }, null)).outcome).toBe('invited');
      const [invitation] = await store().membershipInvitations.listByUser((await user(email)).id);
      await app().members.accept(await user(email), invitation!.id, null);
      const { page } = await signIn(email);
      expect(page.html).toMatch(/14 days left/);
    });
  });

  describe('reminder e-mails', () => {
    it('sends the 7-day and the 1-day reminder once per member and deadline, also when two workers run at once', async () => {
      await organization('library', { grace: 10 });
      const email = await fixture.newUser([{ slug: 'library', role: 'member' }]);
      const deadline = (await app().secondFactors.deadline(await user(email)))!;
      const log = createLogger('silent', () => undefined);
      // A second worker on the same store, as another process would run it.
      const other = new SetupReminders(store(), app().secondFactors, twofold().mailer, log);
      const remindersTo = () => fixture.smtp.messages.filter((message) => message.to === email && /Reminder: set up two-factor/.test(message.subject));
      // What the workers queued for this member, counted as they queue it: no extra reminder can arrive after the check.
      const queuing = jest.spyOn(twofold().mailer, 'send');
      const queued = () => queuing.mock.calls.filter(([message]) => message.to === email && message.message === 'setup-deadline-reminder').length;
      /** `count` reminders queued in all, and those delivered to the mail server. */
      const expectReminders = async (count: number) => {
        expect(queued()).toBe(count);
        // Delivery is the worker loop's: wait for it.
        await eventually(() => remindersTo().length >= count);
        expect(remindersTo()).toHaveLength(count);
      };

      await app().setupReminders.sendDue(new Date(deadline.getTime() - 8 * DAY_MS));
      const sixDaysBefore = new Date(deadline.getTime() - 6 * DAY_MS);
      await Promise.all([app().setupReminders.sendDue(sixDaysBefore), other.sendDue(sixDaysBefore), app().setupReminders.sendDue(sixDaysBefore)]);
      await expectReminders(1);
      expect(remindersTo()[0]!.text).toContain(deadline.toISOString().slice(0, 10));
      expect(remindersTo()[0]!.text).toMatch(/6 days left/);
      // The next day, and after a restart (the worker asks the store again), nothing more.
      await other.sendDue(new Date(deadline.getTime() - 5 * DAY_MS));

      const halfADayBefore = new Date(deadline.getTime() - DAY_MS / 2);
      await Promise.all([app().setupReminders.sendDue(halfADayBefore), other.sendDue(halfADayBefore)]);
      await app().setupReminders.sendDue(new Date(deadline.getTime() + DAY_MS));
      await expectReminders(2);
      expect(remindersTo()[1]!.text).toMatch(/1 day left/);
      queuing.mockRestore();
    });

    it('sends none to a member who has a second factor', async () => {
      await organization('zoo', { grace: 3 });
      const email = await fixture.newUser([{ slug: 'zoo', role: 'member' }]);
      const { browser, page } = await signIn(email);
      await completeSetup(browser, await browser.submit(page, formAction(page.html, '/grace'), { choice: 'setup' }));
      const deadline = (await store().organizations.findBySlug('zoo'))!.enforcementStartedAt!.getTime() + 3 * DAY_MS;
      await app().setupReminders.sendDue(new Date(deadline - DAY_MS / 2));
      // Claimed reminders are recorded before they are queued: none was for this member.
      expect(await store().deadlineReminders.claim((await user(email)).id, new Date(deadline), '1-day', new Date())).toBe(true);
    });
  });

  describe('the rollout settings', () => {
    it('are saved on the settings page, with a sentence next to the field for bad input and nothing changed', async () => {
      await organization('parks');
      const owner = await fixture.newUser([{ slug: 'parks', role: 'owner' }]);
      const { browser } = await adminBrowser(twofold().url, owner, PASSWORD);
      const settings = await browser.visit('/admin/orgs/parks/settings');
      expect(settings.html).toMatch(/<label for="gracePeriodDays">Grace period \(days\)<\/label>/);
      expect(settings.html).toMatch(/<label for="rememberBrowserDays">Remember a browser for \(days\)<\/label>/);
      expect(settings.html).toMatch(/<legend>Apply to<\/legend>/);
      expect(settings.html).toMatch(/<label for="applyTo-all">All members<\/label>/);
      expect(settings.html).toMatch(/<label for="applyTo-owners">Owners only<\/label>/);
      expect(settings.html).toMatch(/<progress id="adoption-progress"/);
      expect(settings.html).toMatch(/1 of 1 members has a second factor \(100%\)/);
      expect(settings.html).toMatch(/<svg[^>]*role="img"/);

      for (const [field, value] of [['gracePeriodDays', '91'], ['gracePeriodDays', '-1'], ['gracePeriodDays', 'abc'], ['rememberBrowserDays', '1e3'], ['applyTo', 'everyone']] as const) {
        const refused = await postForm(browser, '/admin/orgs/parks/settings', { forceTwoFactor: 'on', gracePeriodDays: '7', rememberBrowserDays: '7', applyTo: 'all', [field]: value });
        expect([field, value, refused.status]).toStrictEqual([field, value, 400]);
        expect(refused.html).toMatch(new RegExp(`id="${field}-error" role="alert">[^<]*(0 to 90|all members)`));
        expect(await store().organizations.findBySlug('parks')).toMatchObject({ gracePeriodDays: 0, rememberBrowserDays: 0, applyTo: 'all' });
      }
      const saved = await postForm(browser, '/admin/orgs/parks/settings', { forceTwoFactor: 'on', gracePeriodDays: '21', rememberBrowserDays: '7', applyTo: 'owners' });
      expect(saved.status).toBe(200);
      expect(await store().organizations.findBySlug('parks')).toMatchObject({ gracePeriodDays: 21, rememberBrowserDays: 7, applyTo: 'owners', forceTwoFactor: true });
      const entry = (await auditOf('parks')).find((event) => event.action === 'policy.rollout_changed')!;
      expect(entry.details).toStrictEqual({ gracePeriodDaysBefore: 0, gracePeriodDaysAfter: 21, rememberBrowserDaysBefore: 0, rememberBrowserDaysAfter: 7, applyToBefore: 'all', applyToAfter: 'owners' });
      const audit = await browser.visit('/admin/orgs/parks/audit');
      expect(audit.html).toContain('grace period (days) from 0 to 21, remember a browser for (days) from 0 to 7, apply to from all members to owners only');
    });

    it('cannot be changed by the owner of another organization, through the API or the pages', async () => {
      await organization('gallery', { grace: 7 });
      const stranger = await fixture.newUser([{ slug: 'county', role: 'owner' }]);
      const { browser } = await adminBrowser(twofold().url, stranger, PASSWORD);
      const token = await apiTokenFrom(browser);
      const before = await store().organizations.findBySlug('gallery');
      const viaApi = await callApi(twofold().url, token, 'PUT', '/admin/api/organizations/gallery/policy', { gracePeriodDays: 90, rememberBrowserDays: 90, applyTo: 'owners' });
      expect(viaApi.status).toBe(404);
      const viaPage = await postForm(browser, '/admin/orgs/gallery/settings', { gracePeriodDays: '90', rememberBrowserDays: '90', applyTo: 'owners' });
      expect(viaPage.status).toBe(404);
      expect(await store().organizations.findBySlug('gallery')).toStrictEqual(before);
    });

    it('answer bad API input with a 400 sentence and change nothing', async () => {
      const owner = await fixture.newUser([{ slug: 'gallery', role: 'owner' }]);
      const token = await apiTokenFrom((await adminBrowser(twofold().url, owner, PASSWORD)).browser);
      const before = await store().organizations.findBySlug('gallery');
      for (const body of [{ gracePeriodDays: 91 }, { gracePeriodDays: -1 }, { gracePeriodDays: 'abc' }, { rememberBrowserDays: 2.5 }, { applyTo: 'some' }, { gracePeriodDays: 3, forceTwoFactor: 'yes' }]) {
        const response = await callApi(twofold().url, token, 'PUT', '/admin/api/organizations/gallery/policy', body);
        expect([body, response.status]).toStrictEqual([body, 400]);
        expect(typeof response.json.error_description).toBe('string');
      }
      expect(await store().organizations.findBySlug('gallery')).toStrictEqual(before);
    });

    it('list each member\'s deadline, filter the overdue ones, and carry the deadline in the API and the export', async () => {
      if (!onSqlite()) return reportSkip('overdue members', 'dates are moved in the embedded SQLite database');
      await organization('pier', { grace: 10 });
      const owner = await fixture.newUser([{ slug: 'pier', role: 'owner' }]);
      const overdue = await fixture.newUser([{ slug: 'pier', role: 'member' }]);
      const onTime = await fixture.newUser([{ slug: 'pier', role: 'member' }]);
      const org = (await store().organizations.findBySlug('pier'))!;
      const startedAt = Date.now() - 20 * DAY_MS;
      backdate('UPDATE organizations SET enforcement_started_at = ? WHERE id = ?', startedAt, org.id);
      await joinedDaysAgo('pier', overdue, 30);
      await joinedDaysAgo('pier', owner, 30);
      const { browser } = await adminBrowser(twofold().url, owner, PASSWORD);
      const members = await browser.visit('/admin/orgs/pier/members');
      expect(members.html).toMatch(/<th scope="col">Deadline<\/th>/);
      expect(members.html).toMatch(/>Overdue<\/a>/);
      const filtered = await browser.visit('/admin/orgs/pier/members?filter=overdue');
      expect(filtered.html).toContain(overdue);
      expect(filtered.html).not.toContain(onTime);
      const token = await apiTokenFrom(browser);
      const listed = (await callApi(twofold().url, token, 'GET', '/admin/api/organizations/pier/members?twoFactor=overdue')).json.members as Array<{ email: string; twoFactor: { deadline: string; overdue: boolean } }>;
      expect(listed.map((member) => member.email)).toStrictEqual([overdue]);
      expect(listed[0]!.twoFactor.overdue).toBe(true);
      // Joined before enforcement started: its start and the grace period; joined since: the day they joined and the grace period.
      expect(Date.parse(listed[0]!.twoFactor.deadline)).toBe(startedAt + 10 * DAY_MS);
      const rows = await app().members.exportRows(OPERATOR, 'pier');
      const joined = (await store().memberships.find(org.id, (await user(onTime)).id))!.createdAt;
      expect(rows.find((row) => row.user.email === onTime)!.deadline!.getTime()).toBe(joined.getTime() + 10 * DAY_MS);
    });
  });

  describe('adoption at a glance', () => {
    it('shows how many have a second factor, with a bar, and the share day by day since enforcement started with the deadline marked', async () => {
      await organization('market', { grace: 10, startedDaysAgo: 3 });
      const owner = await fixture.newUser([{ slug: 'market', role: 'owner' }]);
      const waiting = await fixture.newUser([{ slug: 'market', role: 'member' }]);
      await fixture.newUser([{ slug: 'market', role: 'member' }]);
      // The worker loop's snapshots of the days before (nobody had a second factor yet).
      const snapshotsFrom = Date.now();
      await app().organizations.recordAdoption(new Date(snapshotsFrom - 3 * DAY_MS));
      await app().organizations.recordAdoption(new Date(snapshotsFrom - 2 * DAY_MS));
      const { browser } = await adminBrowser(twofold().url, owner, PASSWORD);
      // The owner put the setup off too; one member sets it up today.
      const { browser: member, page } = await signIn(waiting);
      await completeSetup(member, await member.submit(page, formAction(page.html, '/grace'), { choice: 'setup' }));

      const members = await browser.visit('/admin/orgs/market/members');
      expect(members.html).toMatch(/1 of 3 members has a second factor \(33%\)/);
      expect(members.html).toMatch(/<progress id="adoption-progress" max="3" value="1" aria-labelledby="adoption-summary">33%<\/progress>/);
      const dayOf = (moment: number) => new Date(moment).toISOString().slice(0, 10);
      expect(members.html).toContain(`<tr><td>${dayOf(snapshotsFrom - 3 * DAY_MS)}</td><td>0 of 3</td><td>0%</td></tr>`);
      // Today is the day the page was made: the same at both ends unless a midnight fell between them.
      const today = [dayOf(snapshotsFrom), dayOf(Date.now())].map((date) => `<tr><td>${date}</td><td>1 of 3</td><td>33%</td></tr>`);
      expect(today.some((row) => members.html.includes(row))).toBe(true);
      // Three days with figures (three and two days ago, from the snapshots, and today), one point each.
      expect(/<polyline class="share" points="([^"]+)"/.exec(members.html)![1]!.split(' ')).toHaveLength(3);
      expect(members.html).toMatch(/<line class="deadline"/);
      expect(members.html).toMatch(/<title id="adoption-chart-title">[^<]*the deadline is [0-9-]{10}/);
      expect(members.html).not.toMatch(/<script(?![^>]*copy\.js)/);
    });
  });

  describe('remembered browsers', () => {
    beforeAll(async () => {
      await organization('office', { remember: 7 });
    });

    /** A member of "office" with an authenticator app set up through the pages; returns the secret and recovery codes. */
    const enrolledMember = async () => {
      const email = await fixture.newUser([{ slug: 'office', role: 'member' }]);
      const { browser, page } = await signIn(email);
      const { secret, codes } = await completeSetup(browser, page, -1);
      return { email, secret, codes };
    };
    /** A browser that holds only the remembered-browser cookie `token` (no session). */
    const rememberedBrowser = (token: string) => {
      const browser = new Browser(twofold().url);
      const host = new URL(twofold().url).hostname;
      browser.cookies.set(`${host}|${REMEMBERED_COOKIE}|/`, { name: REMEMBERED_COOKIE, value: token, path: '/', host });
      return browser;
    };
    const rememberedToken = (browser: Browser) => [...browser.cookies.values()].find((cookie) => cookie.name === REMEMBERED_COOKIE)?.value;
    /** Remembers a browser for the member as the challenge's checkbox does (the same application call). */
    const remember = async (email: string, description = 'Firefox on Linux') => (await app().secondFactors.rememberBrowser(await user(email), description, '127.0.0.1'))!.token;
    const passesOnPassword = async (email: string, token: string) => {
      const { page } = await signIn(email, {}, rememberedBrowser(token));
      return page.url.startsWith(REDIRECT_URI);
    };

    it('offers the checkbox, stores only a hash, and lets that browser sign in with the password alone, reporting amr ["pwd"]', async () => {
      const { email, secret } = await enrolledMember();
      const { browser, page } = await signIn(email);
      expect(page.html).toMatch(/<input id="remember" type="checkbox" name="remember" value="on"/);
      expect(page.html).toMatch(/<label for="remember">Remember this browser for 7 days<\/label>/);
      const landed = await browser.submit(page, formAction(page.html, '/challenge'), { passcode: await codeAt(secret, 1), remember: 'on' });
      expect(landed.url).toStartWith(REDIRECT_URI);
      const token = rememberedToken(browser)!;
      expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const [record] = await store().rememberedBrowsers.listByUser((await user(email)).id);
      expect(record!.tokenHash).toBe(crypto.createHash('sha256').update(token).digest('hex'));
      expect(record!.tokenHash).not.toContain(token);
      expect(record!.expiresAt.getTime() - record!.createdAt.getTime()).toBe(7 * DAY_MS);

      const rememberedBefore = await outcomeCount('remembered');
      expect(rememberedBefore).toBeGreaterThanOrEqual(0);
      const again = await signIn(email, {}, rememberedBrowser(token));
      expect(await outcomeCount('remembered')).toBe(rememberedBefore + 1);
      const claims = await claimsOf(again.page, again.pending);
      expect(claims.amr).toStrictEqual(['pwd']);
      expect(claims.acr).toBe(ACR.rememberedBrowser);
      // Another person's password on that browser still needs their own passcode.
      const other = await enrolledMember();
      expect((await signIn(other.email, {}, rememberedBrowser(token))).page.html).toContain('One-time passcode');
    });

    it('never answers a relying party\'s request for the two-factor level', async () => {
      const { email } = await enrolledMember();
      const token = await remember(email);
      const { page } = await signIn(email, { acr_values: ACR.twoFactor }, rememberedBrowser(token));
      expect(page.html).toMatch(/<label for="passcode">One-time passcode<\/label>/);
    });

    it('is refused once removed from the account page\'s list', async () => {
      const { email } = await enrolledMember();
      const token = await remember(email);
      // The account page, on another remembered browser (it signs in there with the password only, too).
      const browser = rememberedBrowser(await remember(email, 'Edge on Windows'));
      const signInPage = await browser.visit('/account');
      const account = await browser.submit(signInPage, formAction(signInPage.html, '/login'), { email, password: PASSWORD });
      expect(account.html).toMatch(/<h2 id="remembered-browsers-heading">Remembered browsers<\/h2>/);
      expect(account.html).toContain('Edge on Windows');
      const firefox = (await store().rememberedBrowsers.listByUser((await user(email)).id)).find((browserRecord) => browserRecord.description === 'Firefox on Linux')!;
      expect(account.html).toMatch(/<button type="submit" aria-label="Remove Firefox on Linux, remembered on [0-9-]+">Remove<\/button>/);
      const removed = await browser.submit(account, formAction(account.html, `/remembered-browsers/${firefox.id}/remove`), {});
      expect(removed.html).toMatch(/That browser is no longer remembered/);
      expect(await passesOnPassword(email, token)).toBe(false);
      expect(await auditOf('office')).toContainEqual(expect.objectContaining({ action: 'remembered_browser.removed', targetEmail: email }));
    });

    it('is refused after the password is changed', async () => {
      const { email, codes } = await enrolledMember();
      const token = await remember(email);
      expect(await passesOnPassword(email, token)).toBe(true);
      const problem = await app().selfService.changePassword(await user(email), { password: PASSWORD, recoveryCode: codes[0]!, newPassword: PASSWORD, confirm: PASSWORD }, 'test-change', '127.0.0.1');
      expect(problem).toBeNull();
      expect(await passesOnPassword(email, token)).toBe(false);
    });

    it('is refused after the password is reset through the e-mailed link', async () => {
      const { email } = await enrolledMember();
      const token = await remember(email);
      const browser = new Browser(twofold().url);
      const forgot = await browser.visit('/password/forgot');
      await browser.submit(forgot, formAction(forgot.html, '/password/forgot'), { email });
      const link = /(https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]+)/.exec((await fixture.smtp.waitFor(email, /^Set a new password$/)).text)![1]!;
      const form = await browser.visit(link);
      await browser.submit(form, formAction(form.html, new URL(link).pathname), { password: PASSWORD, confirm: PASSWORD });
      expect(await store().rememberedBrowsers.listByUser((await user(email)).id)).toStrictEqual([]);
      expect(await passesOnPassword(email, token)).toBe(false);
    });

    it('is refused after an admin disables the member\'s 2FA, and after the user signs out every other session', async () => {
      const first = await enrolledMember();
      const firstToken = await remember(first.email);
      await app().members.disableTwoFactor(OPERATOR, 'office', (await user(first.email)).id, null, 'lost phone');
      const afterReset = await signIn(first.email, {}, rememberedBrowser(firstToken));
      expect(afterReset.page.html).toMatch(/<label for="token">Token<\/label>/);

      const second = await enrolledMember();
      const secondToken = await remember(second.email);
      const account = await (async () => {
        const browser = rememberedBrowser(await remember(second.email));
        const page = await browser.visit('/account');
        return { browser, page: await browser.submit(page, formAction(page.html, '/login'), { email: second.email, password: PASSWORD }) };
      })();
      await postForm(account.browser, '/account/sessions/end-others');
      expect(await passesOnPassword(second.email, secondToken)).toBe(false);
    });

    it('is refused after the user turns their own 2FA off', async () => {
      const email = await fixture.newUser([]);
      const record = await user(email);
      await store().secondFactors.enable({ userId: record.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
      const token = await remember(email);
      expect(await passesOnPassword(email, token)).toBe(true);
      await app().secondFactors.disable(record, { actor: record, ip: null });
      expect(await store().rememberedBrowsers.listByUser(record.id)).toStrictEqual([]);
    });

    it('is shortened at once when the organization lowers its days, and offered by none when one organization says 0', async () => {
      if (!onSqlite()) return reportSkip('remembered browser shortened', 'dates are moved in the embedded SQLite database');
      const { email } = await enrolledMember();
      const token = await remember(email);
      backdate('UPDATE remembered_browsers SET created_at = ? WHERE user_id = ?', Date.now() - 3 * DAY_MS, (await user(email)).id);
      expect(await passesOnPassword(email, token)).toBe(true);
      await app().organizations.setRollout(OPERATOR, 'office', { rememberBrowserDays: 2 }, null);
      expect(await passesOnPassword(email, token)).toBe(false);
      await app().organizations.setRollout(OPERATOR, 'office', { rememberBrowserDays: 7 }, null);

      // A member also in "city" (which remembers no browser) gets no checkbox, and no browser is remembered for them.
      const both = await fixture.newUser([{ slug: 'office', role: 'member' }, { slug: 'city', role: 'member' }]);
      const { browser, page } = await signIn(both);
      const { secret } = await completeSetup(browser, page, -1);
      const challenge = await signIn(both);
      expect(challenge.page.html).toContain('One-time passcode');
      expect(challenge.page.html).not.toContain('Remember this browser');
      await challenge.browser.submit(challenge.page, formAction(challenge.page.html, '/challenge'), { passcode: await codeAt(secret, 1), remember: 'on' });
      expect(await store().rememberedBrowsers.listByUser((await user(both)).id)).toStrictEqual([]);
    });
  });
});
