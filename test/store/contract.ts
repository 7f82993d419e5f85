import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { afterFailedAttempt, GIVE_UP_AFTER_MS } from '../../src/mail/retry-policy.js';
import { DuplicateError, type NewOutboxMessage, type Store, type User } from '../../src/store/types.js';

/** Every timer API but `Date`: the stores' drivers keep their own timers and clocks. */
const ALL_BUT_DATE = ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] as const;

/**
 * Runs `work` with the clock set to `at`, so that what the store stamps "now" is known — an order of
 * records by time is then tested without waiting for the wall clock to move.
 */
async function atTime<T>(at: number, work: () => Promise<T>): Promise<T> {
  jest.useFakeTimers({ now: at, doNotFake: [...ALL_BUT_DATE] });
  try {
    return await work();
  } finally {
    jest.useRealTimers();
  }
}

/**
 * The storage contract: every store implementation must pass this same suite. Each test gets a
 * fresh, empty store from `open`.
 */
export function storeContract(name: string, open: () => Promise<Store>, { skip = false }: { skip?: boolean } = {}): void {
  (skip ? describe.skip : describe)(`${name} store contract`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(() => store.close());

    describe('users', () => {
      it('creates a user and finds it by id and by email, case-insensitively', async () => {
        const user = await store.users.create({ email: 'Ada@Example.test', name: 'Ada', passwordHash: 'h', siteAdmin: false });
        expect(user.email).toBe('ada@example.test');
        expect(user.lastSignInAt).toBeNull();
        expect(user.createdAt).toBeInstanceOf(Date);
        expect(await store.users.findById(user.id)).toStrictEqual(user);
        expect(await store.users.findByEmail('ADA@example.TEST')).toStrictEqual(user);
        expect(await store.users.findByEmail('nobody@example.test')).toBeNull();
        expect(await store.users.findById('missing')).toBeNull();
      });

      it('refuses a second user with the same email, whatever its case', async () => {
        await store.users.create({ email: 'ada@example.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const duplicate = store.users.create({ email: 'ADA@example.test', name: 'Other', passwordHash: null, siteAdmin: true });
        await expect(duplicate).rejects.toBeInstanceOf(DuplicateError);
        await expect(duplicate).rejects.toHaveProperty('field', 'email');
        expect(await store.users.count()).toBe(1);
      });

      it('finds users by ids and searches emails literally', async () => {
        const a = await store.users.create({ email: 'ann.lee+city@x.test', name: 'Ann', passwordHash: null, siteAdmin: false });
        const b = await store.users.create({ email: 'annaxlee@x.test', name: 'Anna', passwordHash: null, siteAdmin: false });
        await store.users.create({ email: 'bob@y.test', name: 'Bob', passwordHash: null, siteAdmin: false });
        expect((await store.users.findByIds([b.id, a.id, 'missing'])).map((user) => user.email)).toStrictEqual(['ann.lee+city@x.test', 'annaxlee@x.test']);
        expect(await store.users.findByIds([])).toStrictEqual([]);
        const emails = async (text: string, limit = 10, offset = 0) => (await store.users.search(text, { limit, offset })).users.map((user) => user.email);
        expect(await emails('ANN')).toStrictEqual(['ann.lee+city@x.test', 'annaxlee@x.test']);
        // . and + are not patterns.
        expect(await emails('ann.lee+')).toStrictEqual(['ann.lee+city@x.test']);
        expect((await emails('x.test', 1)).length).toStrictEqual(1);
      });

      it('searches names too, a page at a time, with the number of matches in all', async () => {
        await store.users.create({ email: 'zed@x.test', name: 'Ada Lovelace', passwordHash: null, siteAdmin: false });
        await store.users.create({ email: 'ada@y.test', name: 'Someone', passwordHash: null, siteAdmin: false });
        await store.users.create({ email: 'bob@y.test', name: 'Bob (admin) [100%]', passwordHash: null, siteAdmin: false });
        const page = (text: string, limit: number, offset: number) => store.users.search(text, { limit, offset }).then(({ users, total }) => ({ emails: users.map((user) => user.email), total }));
        expect(await page('lovelace', 10, 0)).toStrictEqual({ emails: ['zed@x.test'], total: 1 });
        expect(await page('ADA', 10, 0)).toStrictEqual({ emails: ['ada@y.test', 'zed@x.test'], total: 2 });
        expect(await page('ada', 1, 1)).toStrictEqual({ emails: ['zed@x.test'], total: 2 });
        // Brackets, parentheses and percent signs in a name are not patterns either.
        expect(await page('(admin) [100%]', 10, 0)).toStrictEqual({ emails: ['bob@y.test'], total: 1 });
        expect(await page('', 2, 0)).toStrictEqual({ emails: ['ada@y.test', 'bob@y.test'], total: 3 });
        expect(await page('nobody', 10, 0)).toStrictEqual({ emails: [], total: 0 });
      });

      it('creates many users in one batch, all or none', async () => {
        const created = await store.users.createMany([
          { email: 'One@x.test', name: 'One', passwordHash: 'h1', siteAdmin: false },
          { email: 'two@x.test', name: 'Two', passwordHash: null, siteAdmin: true },
        ]);
        expect(created.map((user) => user.email)).toStrictEqual(['one@x.test', 'two@x.test']);
        expect(await store.users.findById(created[1]!.id)).toStrictEqual(created[1]);
        await expect(store.users.createMany([{ email: 'three@x.test', name: 'Three', passwordHash: null, siteAdmin: false }, { email: 'ONE@x.test', name: 'Dup', passwordHash: null, siteAdmin: false }])).rejects.toThrow(DuplicateError);
        expect(await store.users.count()).toBe(2);
        expect(await store.users.createMany([])).toStrictEqual([]);
      });

      it('updates the password hash and the last sign-in time', async () => {
        const user = await store.users.create({ email: 'a@x.test', name: 'A', passwordHash: 'old', siteAdmin: true });
        await store.users.updatePasswordHash(user.id, 'new');
        const at = new Date('2026-01-02T03:04:05.000Z');
        await store.users.recordSignIn(user.id, at);
        const reloaded = await store.users.findById(user.id);
        expect(reloaded?.passwordHash).toBe('new');
        expect(reloaded?.siteAdmin).toBe(true);
        expect(reloaded?.lastSignInAt?.toISOString()).toBe(at.toISOString());
      });

      it('hands an account to an organization\'s identity provider, removing its password, and back', async () => {
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const local = await store.users.create({ email: 'local@x.test', name: 'Local', passwordHash: 'h', siteAdmin: false });
        expect(local.managedBy).toBeNull();
        const made = await store.users.create({ email: 'made@x.test', name: 'Made', passwordHash: null, siteAdmin: false, managedBy: county.id });
        expect((await store.users.findById(made.id))?.managedBy).toBe(county.id);
        await store.users.setManagedBy(local.id, county.id);
        const handed = await store.users.findById(local.id);
        expect([handed?.managedBy, handed?.passwordHash]).toStrictEqual([county.id, null]);
        await store.users.setManagedBy(local.id, null);
        expect((await store.users.findByEmail('local@x.test'))?.managedBy).toBeNull();
      });

      it('lists the users at exactly one email domain, with their number', async () => {
        for (const email of ['b@city.test', 'a@city.test', 'c@staff.city.test', 'd@city.test.evil', 'e@notcity.test', 'f@city_test']) {
          await store.users.create({ email, name: email, passwordHash: null, siteAdmin: false });
        }
        const page = await store.users.listByEmailDomain('CITY.test', 1);
        expect([page.users.map((user) => user.email), page.total]).toStrictEqual([['a@city.test'], 2]);
        expect((await store.users.listByEmailDomain('city.test', 10)).users.map((user) => user.email)).toStrictEqual(['a@city.test', 'b@city.test']);
        // Nothing in a domain is a pattern.
        expect((await store.users.listByEmailDomain('city.tes_', 10)).total).toBe(0);
        expect((await store.users.listByEmailDomain('%', 10)).total).toBe(0);
      });

      it('suspends an account once, keeps it as it was, and reactivates it', async () => {
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: 'h', siteAdmin: false });
        expect(ada.suspendedAt).toBeNull();
        const at = new Date('2026-02-03T04:05:06.000Z');
        const raced = await Promise.all(Array.from({ length: 4 }, () => store.users.suspend(ada.id, at)));
        expect(raced.sort()).toStrictEqual(['already-suspended', 'already-suspended', 'already-suspended', 'suspended']);
        const suspended = await store.users.findById(ada.id);
        expect(suspended).toStrictEqual({ ...ada, suspendedAt: at });
        expect((await store.users.findByEmail('ada@x.test'))?.suspendedAt).toStrictEqual(at);
        expect(await store.users.suspend('missing', at)).toBe('not-found');
        expect(await store.users.reactivate(ada.id)).toBe(true);
        expect(await store.users.reactivate(ada.id)).toBe(false);
        expect(await store.users.findById(ada.id)).toStrictEqual(ada);
      });

      it('never suspends the last active site admin, also when two suspend each other at once', async () => {
        const root = await store.users.create({ email: 'root@x.test', name: 'Root', passwordHash: 'h', siteAdmin: true });
        const second = await store.users.create({ email: 'second@x.test', name: 'Second', passwordHash: 'h', siteAdmin: true });
        const member = await store.users.create({ email: 'member@x.test', name: 'Member', passwordHash: 'h', siteAdmin: false });
        const at = new Date();
        expect(await store.users.suspend(second.id, at)).toBe('suspended');
        // A suspended site admin is not an active one: root is the last.
        expect(await store.users.suspend(root.id, at)).toBe('last-site-admin');
        expect((await store.users.findById(root.id))?.suspendedAt).toBeNull();
        expect(await store.users.suspend(member.id, at)).toBe('suspended');
        expect(await store.users.reactivate(second.id)).toBe(true);
        const crossed = await Promise.all([store.users.suspend(root.id, at), store.users.suspend(second.id, at)]);
        expect(crossed).toContain('last-site-admin');
        const active = [await store.users.findById(root.id), await store.users.findById(second.id)].filter((user) => user?.suspendedAt === null);
        expect(active.length).toBeGreaterThanOrEqual(1);
      });
    });

    describe('organizations', () => {
      it('creates organizations with unique slugs and finds them', async () => {
        const b = await store.organizations.create({ slug: 'county', name: 'County' });
        const a = await store.organizations.create({ slug: 'city', name: 'City' });
        expect(a.forceTwoFactor).toBe(false);
        expect(await store.organizations.findBySlug('city')).toStrictEqual(a);
        expect(await store.organizations.findById(b.id)).toStrictEqual(b);
        expect(await store.organizations.findBySlug('nope')).toBeNull();
        expect((await store.organizations.list()).map((org) => org.slug)).toStrictEqual(['city', 'county']);
        expect((await store.organizations.findByIds([b.id, a.id])).map((org) => org.slug)).toStrictEqual(['city', 'county']);
        expect(await store.organizations.findByIds([])).toStrictEqual([]);
        expect(await store.organizations.findByIds([b.id])).toStrictEqual([b]);
        expect(await store.organizations.findByIds(['missing'])).toStrictEqual([]);
        expect((await store.organizations.findByIds([a.id, 'missing', a.id])).map((org) => org.slug)).toStrictEqual(['city']);
        const duplicate = store.organizations.create({ slug: 'city', name: 'Again' });
        await expect(duplicate).rejects.toBeInstanceOf(DuplicateError);
        await expect(duplicate).rejects.toHaveProperty('field', 'slug');
      });

      it('renames an organization', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        await store.organizations.rename(city.id, 'City of Springfield');
        expect(await store.organizations.findBySlug('city')).toStrictEqual({ ...city, name: 'City of Springfield' });
      });

      it('deletes an organization with what belongs to it, keeping the accounts and the audit log', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: 'h', siteAdmin: false });
        const clerk = await store.users.create({ email: 'clerk@city.test', name: 'Clerk', passwordHash: null, siteAdmin: false, managedBy: city.id });
        await store.memberships.put(city.id, ada.id, 'owner');
        await store.memberships.put(county.id, ada.id, 'member');
        await store.memberships.put(city.id, clerk.id, 'member');
        await store.membershipInvitations.put({ organizationId: city.id, userId: clerk.id, role: 'owner', invitedBy: null, expiresAt: new Date(Date.now() + 60_000) });
        await store.organizations.setFederation(city.id, { issuer: 'https://idp.city.test', clientId: 'c', sealedClientSecret: 's', domains: ['city.test'], trustedForTwoFactor: false });
        await store.adoption.record({ organizationId: city.id, day: '2026-03-02', members: 2, enrolled: 1 });
        await store.audit.append([{ organizationId: city.id, action: 'policy.changed', actorId: null, actorEmail: null, targetId: null, targetEmail: null, ip: null, details: {} }]);
        expect(await store.users.listManagedBy(city.id)).toStrictEqual([clerk]);

        expect(await store.organizations.delete(city.id)).toBe(true);
        expect(await store.organizations.delete(city.id)).toBe(false);
        expect(await store.organizations.findBySlug('city')).toBeNull();
        expect(await store.organizations.findByFederatedDomain('city.test')).toBeNull();
        expect((await store.memberships.listByUser(ada.id)).map((membership) => membership.organizationId)).toStrictEqual([county.id]);
        expect(await store.memberships.listByOrganization(city.id)).toStrictEqual([]);
        expect(await store.membershipInvitations.listByUser(clerk.id)).toStrictEqual([]);
        expect(await store.adoption.list(city.id, '2000-01-01')).toStrictEqual([]);
        expect(await store.users.findById(ada.id)).toStrictEqual(ada);
        expect((await store.users.findById(clerk.id))?.managedBy).toBeNull();
        expect((await store.audit.list(city.id, { limit: 10, offset: 0 })).total).toBe(1);
        // The slug can be used again.
        expect((await store.organizations.create({ slug: 'city', name: 'New City' })).id).not.toBe(city.id);
      });

      it('stores a federation, finds it by domain, and keeps a domain to one organization', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        expect(city.federation).toBeNull();
        const federation = { issuer: 'https://idp.city.test', clientId: 'twofold', sealedClientSecret: 'sealed', domains: ['city.test', 'staff.city.test'], trustedForTwoFactor: false };
        await store.organizations.setFederation(city.id, federation);
        expect((await store.organizations.findById(city.id))?.federation).toStrictEqual(federation);
        expect((await store.organizations.findByFederatedDomain('STAFF.city.test'))?.slug).toBe('city');
        expect(await store.organizations.findByFederatedDomain('county.test')).toBeNull();
        const taken = store.organizations.setFederation(county.id, { ...federation, domains: ['city.test'] });
        await expect(taken).rejects.toBeInstanceOf(DuplicateError);
        await expect(taken).rejects.toHaveProperty('field', 'domain');
        expect((await store.organizations.findById(county.id))?.federation).toBeNull();
        await store.organizations.setFederation(city.id, null);
        expect((await store.organizations.findById(city.id))?.federation).toBeNull();
        expect(await store.organizations.findByFederatedDomain('city.test')).toBeNull();
        await store.organizations.setFederation(county.id, { ...federation, domains: ['city.test'] });
        expect((await store.organizations.findByFederatedDomain('city.test'))?.slug).toBe('county');
      });

      it('stores the force-two-factor flag', async () => {
        const org = await store.organizations.create({ slug: 'city', name: 'City' });
        await store.organizations.setForceTwoFactor(org.id, true, new Date());
        expect((await store.organizations.findById(org.id))?.forceTwoFactor).toBe(true);
        await store.organizations.setForceTwoFactor(org.id, false, new Date());
        expect((await store.organizations.findBySlug('city'))?.forceTwoFactor).toBe(false);
      });

      it('keeps the first moment enforcement was switched on, through switching it off and on again', async () => {
        const org = await store.organizations.create({ slug: 'city', name: 'City' });
        expect(org.enforcementStartedAt).toBeNull();
        await store.organizations.setForceTwoFactor(org.id, false, new Date('2026-01-01T00:00:00Z'));
        expect((await store.organizations.findById(org.id))?.enforcementStartedAt).toBeNull();
        await store.organizations.setForceTwoFactor(org.id, true, new Date('2026-02-01T00:00:00Z'));
        await store.organizations.setForceTwoFactor(org.id, false, new Date('2026-02-02T00:00:00Z'));
        await store.organizations.setForceTwoFactor(org.id, true, new Date('2026-03-01T00:00:00Z'));
        expect((await store.organizations.findById(org.id))?.enforcementStartedAt).toStrictEqual(new Date('2026-02-01T00:00:00Z'));
      });

      it('stores the rollout settings, with defaults for a new organization', async () => {
        const org = await store.organizations.create({ slug: 'city', name: 'City' });
        expect(org).toMatchObject({ gracePeriodDays: 0, rememberBrowserDays: 0, applyTo: 'all' });
        await store.organizations.setRollout(org.id, { gracePeriodDays: 14, rememberBrowserDays: 30, applyTo: 'owners', requiredFactor: 'any', confirmSetupByEmail: true }, new Date());
        expect(await store.organizations.findBySlug('city')).toMatchObject({ gracePeriodDays: 14, rememberBrowserDays: 30, applyTo: 'owners', forceTwoFactor: false });
      });

      it('stores the required factor and the e-mail confirmation, and keeps the first time keys were required', async () => {
        const org = await store.organizations.create({ slug: 'keys', name: 'Keys' });
        expect(org).toMatchObject({ requiredFactor: 'any', keysRequiredSince: null, confirmSetupByEmail: true });
        const base = { gracePeriodDays: 0, rememberBrowserDays: 0, applyTo: 'all' as const };
        await store.organizations.setRollout(org.id, { ...base, requiredFactor: 'any', confirmSetupByEmail: false }, new Date('2026-01-01T00:00:00Z'));
        expect(await store.organizations.findById(org.id)).toMatchObject({ requiredFactor: 'any', keysRequiredSince: null, confirmSetupByEmail: false });
        await store.organizations.setRollout(org.id, { ...base, requiredFactor: 'security-key', confirmSetupByEmail: true }, new Date('2026-02-01T00:00:00Z'));
        await store.organizations.setRollout(org.id, { ...base, requiredFactor: 'any', confirmSetupByEmail: true }, new Date('2026-03-01T00:00:00Z'));
        await store.organizations.setRollout(org.id, { ...base, requiredFactor: 'security-key', confirmSetupByEmail: true }, new Date('2026-04-01T00:00:00Z'));
        expect(await store.organizations.findById(org.id)).toMatchObject({ requiredFactor: 'security-key', keysRequiredSince: new Date('2026-02-01T00:00:00Z'), confirmSetupByEmail: true });
      });

      it('stores whether a federation is trusted for two-factor', async () => {
        const org = await store.organizations.create({ slug: 'city', name: 'City' });
        const federation = { issuer: 'https://idp.city.test', clientId: 'twofold', sealedClientSecret: 'sealed', domains: [], trustedForTwoFactor: true };
        await store.organizations.setFederation(org.id, federation);
        expect((await store.organizations.findById(org.id))?.federation?.trustedForTwoFactor).toBe(true);
        await store.organizations.setFederation(org.id, { ...federation, trustedForTwoFactor: false });
        expect((await store.organizations.findById(org.id))?.federation?.trustedForTwoFactor).toBe(false);
      });
    });

    describe('membership invitations', () => {
      const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
      const setUp = async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const owner = await store.users.create({ email: 'owner@x.test', name: 'Owner', passwordHash: null, siteAdmin: false });
        return { city, county, ada, owner };
      };

      it('invites, lists per user and per organization, and replaces an earlier invitation to the same organization', async () => {
        const { city, county, ada, owner } = await setUp();
        const first = await store.membershipInvitations.put({ organizationId: city.id, userId: ada.id, role: 'member', invitedBy: owner.id, expiresAt: inDays(14) });
        expect(first).toMatchObject({ organizationId: city.id, userId: ada.id, role: 'member', invitedBy: owner.id });
        expect(await store.membershipInvitations.find(first.id)).toStrictEqual(first);
        await store.membershipInvitations.put({ organizationId: county.id, userId: ada.id, role: 'owner', invitedBy: null, expiresAt: inDays(14) });
        const again = await store.membershipInvitations.put({ organizationId: city.id, userId: ada.id, role: 'owner', invitedBy: owner.id, expiresAt: inDays(14) });
        expect(again.id).not.toBe(first.id);
        expect(await store.membershipInvitations.find(first.id)).toBeNull();
        expect((await store.membershipInvitations.listByUser(ada.id)).map((invitation) => [invitation.organizationId, invitation.role]).sort())
          .toStrictEqual([[city.id, 'owner'], [county.id, 'owner']].sort());
        expect((await store.membershipInvitations.listByOrganization(city.id)).map((invitation) => invitation.id)).toStrictEqual([again.id]);
        expect(await store.membershipInvitations.listByUser(owner.id)).toStrictEqual([]);
      });

      it('is taken once, also when two takers race, and not after it expires', async () => {
        const { city, county, ada } = await setUp();
        const live = await store.membershipInvitations.put({ organizationId: city.id, userId: ada.id, role: 'member', invitedBy: null, expiresAt: inDays(1) });
        const results = await Promise.all([store.membershipInvitations.take(live.id), store.membershipInvitations.take(live.id)]);
        expect(results.filter((taken) => taken !== null)).toHaveLength(1);
        expect(results.find((taken) => taken !== null)?.id).toBe(live.id);
        expect(await store.membershipInvitations.find(live.id)).toBeNull();

        const stale = await store.membershipInvitations.put({ organizationId: county.id, userId: ada.id, role: 'member', invitedBy: null, expiresAt: inDays(1) });
        const later = inDays(2);
        expect(await store.membershipInvitations.find(stale.id, later)).toBeNull();
        expect(await store.membershipInvitations.listByUser(ada.id, later)).toStrictEqual([]);
        expect(await store.membershipInvitations.listByOrganization(county.id, later)).toStrictEqual([]);
        expect(await store.membershipInvitations.take(stale.id, later)).toBeNull();
        expect((await store.membershipInvitations.take(stale.id))?.id).toBe(stale.id);
      });
    });

    describe('memberships', () => {
      it('adds, re-roles, lists and removes memberships', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const bob = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });

        expect(await store.memberships.listByUsers([])).toStrictEqual([]);
        const first = await store.memberships.put(city.id, ada.id, 'member');
        expect(first.role).toBe('member');
        const promoted = await store.memberships.put(city.id, ada.id, 'owner');
        expect(promoted.role).toBe('owner');
        // Re-roling keeps the membership.
        expect(promoted.createdAt.getTime()).toBe(first.createdAt.getTime());
        await store.memberships.put(county.id, ada.id, 'member');
        await store.memberships.put(city.id, bob.id, 'member');

        expect((await store.memberships.listByUser(ada.id)).map((m) => [m.organizationId, m.role]).sort()).toStrictEqual([[city.id, 'owner'], [county.id, 'member']].sort());
        expect(await store.memberships.listByOrganization(city.id)).toHaveLength(2);
        expect((await store.memberships.find(city.id, bob.id))?.role).toBe('member');
        await store.memberships.putMany([{ organizationId: county.id, userId: bob.id, role: 'owner' }, { organizationId: city.id, userId: bob.id, role: 'member' }]);
        expect((await store.memberships.find(county.id, bob.id))?.role).toBe('owner');
        expect((await store.memberships.listByUsers([ada.id, bob.id, 'missing'])).map((m) => [m.userId, m.organizationId]).sort()).toStrictEqual([
          [ada.id, city.id], [ada.id, county.id], [bob.id, city.id], [bob.id, county.id],
        ].sort());
        expect(await store.memberships.remove(city.id, bob.id)).toBe(true);
        expect(await store.memberships.remove(city.id, bob.id)).toBe(false);
        expect(await store.memberships.find(city.id, bob.id)).toBeNull();
      });

      it('lists the owners of organizations, oldest first, and no member', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const parish = await store.organizations.create({ slug: 'parish', name: 'Parish' });
        const people = [];
        for (const name of ['ada', 'bob', 'cy', 'dee']) people.push(await store.users.create({ email: `${name}@x.test`, name, passwordHash: null, siteAdmin: false }));
        const [ada, bob, cy, dee] = people as [User, User, User, User];
        const start = Date.now();
        await atTime(start, () => store.memberships.put(city.id, bob.id, 'owner'));
        await atTime(start + 1000, () => store.memberships.put(city.id, ada.id, 'owner'));
        await atTime(start + 2000, () => store.memberships.put(city.id, cy.id, 'member'));
        await store.memberships.put(county.id, dee.id, 'owner');
        await store.memberships.put(parish.id, ada.id, 'owner');
        await store.memberships.put(county.id, cy.id, 'owner');
        await store.memberships.put(county.id, cy.id, 'member');

        expect(await store.memberships.listOwners([])).toStrictEqual([]);
        expect((await store.memberships.listOwners([city.id])).map((m) => [m.userId, m.role])).toStrictEqual([[bob.id, 'owner'], [ada.id, 'owner']]);
        expect((await store.memberships.listOwners([city.id, county.id, 'missing'])).map((m) => [m.organizationId, m.userId]).sort()).toStrictEqual([
          [city.id, ada.id], [city.id, bob.id], [county.id, dee.id],
        ].sort());
      });

      it('counts an organization\'s members, or its owners, and those of them with a second factor', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const people = [];
        for (const name of ['ada', 'bob', 'cy', 'dee', 'eve']) people.push(await store.users.create({ email: `${name}@x.test`, name, passwordHash: null, siteAdmin: false }));
        const [ada, bob, cy, dee, eve] = people as [User, User, User, User, User];
        await store.memberships.put(city.id, ada.id, 'owner');
        await store.memberships.put(city.id, bob.id, 'owner');
        await store.memberships.put(city.id, cy.id, 'member');
        await store.memberships.put(city.id, dee.id, 'member');
        // Enrolled, but in the other organization only: not counted for the city.
        await store.memberships.put(county.id, eve.id, 'member');
        for (const user of [ada, cy, eve]) {
          await store.secondFactors.enable({ userId: user.id, sealedSecret: null, lastTimeStep: 0, recoveryKeyId: 'k0', recoveryCodeHashes: [] });
        }

        expect(await store.memberships.countAdoption(city.id, 'all')).toStrictEqual({ members: 4, enrolled: 2 });
        expect(await store.memberships.countAdoption(city.id, 'owners')).toStrictEqual({ members: 2, enrolled: 1 });
        expect(await store.memberships.countAdoption(county.id, 'all')).toStrictEqual({ members: 1, enrolled: 1 });
        expect(await store.memberships.countAdoption('missing', 'all')).toStrictEqual({ members: 0, enrolled: 0 });
      });
    });

    describe('clients', () => {
      it('creates clients with unique ids and keeps their URIs and flags', async () => {
        const created = await store.clients.create({
          clientId: 'app',
          name: 'App',
          sealedSecret: 'sealed',
          redirectUris: ['https://a.test/cb', 'https://b.test/cb'],
          postLogoutRedirectUris: ['https://a.test/'],
          firstParty: true,
        });
        expect(await store.clients.find('app')).toStrictEqual(created);
        expect(created.redirectUris).toStrictEqual(['https://a.test/cb', 'https://b.test/cb']);
        expect(await store.clients.find('none')).toBeNull();
        await store.clients.create({ clientId: 'public', name: 'Public', sealedSecret: null, redirectUris: ['http://localhost/cb'], postLogoutRedirectUris: [], firstParty: false });
        expect((await store.clients.list()).map((client) => client.clientId)).toStrictEqual(['app', 'public']);
        const duplicate = store.clients.create({ ...created });
        await expect(duplicate).rejects.toBeInstanceOf(DuplicateError);
        await expect(duplicate).rejects.toHaveProperty('field', 'clientId');
        expect([created.previousSealedSecret, created.previousSecretExpiresAt, created.backchannelLogoutUri]).toStrictEqual([null, null, null]);
      });

      it('keeps a back-channel logout URI', async () => {
        await store.clients.create({ clientId: 'rp', name: 'RP', sealedSecret: 's', redirectUris: ['https://rp.test/cb'], postLogoutRedirectUris: [], backchannelLogoutUri: 'https://rp.test/logout', firstParty: false });
        expect((await store.clients.find('rp'))?.backchannelLogoutUri).toBe('https://rp.test/logout');
      });

      it('rotates a secret only from the one it replaces, keeping the old one until a moment or not at all', async () => {
        await store.clients.create({ clientId: 'rp', name: 'RP', sealedSecret: 'first', redirectUris: ['https://rp.test/cb'], postLogoutRedirectUris: [], firstParty: false });
        const until = new Date('2031-05-06T07:08:09.000Z');
        expect(await store.clients.rotateSecret('rp', 'first', { sealedSecret: 'second', previous: { sealedSecret: 'first', expiresAt: until } })).toBe(true);
        expect(await store.clients.find('rp')).toMatchObject({ sealedSecret: 'second', previousSealedSecret: 'first', previousSecretExpiresAt: until });
        // A rotation that raced and lost, and one of a client that does not exist, change nothing.
        expect(await store.clients.rotateSecret('rp', 'first', { sealedSecret: 'third', previous: null })).toBe(false);
        expect(await store.clients.rotateSecret('none', 'first', { sealedSecret: 'third', previous: null })).toBe(false);
        expect((await store.clients.find('rp'))?.sealedSecret).toBe('second');
        const racing = await Promise.all(['a', 'b', 'c'].map((next) => store.clients.rotateSecret('rp', 'second', { sealedSecret: next, previous: null })));
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await store.clients.find('rp')).toMatchObject({ previousSealedSecret: null, previousSecretExpiresAt: null });
      });

      it('deletes a client once', async () => {
        await store.clients.create({ clientId: 'rp', name: 'RP', sealedSecret: null, redirectUris: ['https://rp.test/cb'], postLogoutRedirectUris: [], firstParty: false });
        await store.clients.create({ clientId: 'other', name: 'Other', sealedSecret: null, redirectUris: ['https://o.test/cb'], postLogoutRedirectUris: [], firstParty: false });
        expect(await store.clients.delete('rp')).toBe(true);
        expect(await store.clients.delete('rp')).toBe(false);
        expect(await store.clients.find('rp')).toBeNull();
        expect((await store.clients.list()).map((client) => client.clientId)).toStrictEqual(['other']);
      });

      it('keeps a back-channel logout URI, and none by default', async () => {
        const told = await store.clients.create({ clientId: 'told', name: 'Told', sealedSecret: null, redirectUris: ['https://a.test/cb'], postLogoutRedirectUris: [], firstParty: false, backchannelLogoutUri: 'https://a.test/backchannel-logout' });
        expect((await store.clients.find('told'))?.backchannelLogoutUri).toBe('https://a.test/backchannel-logout');
        expect(told.backchannelLogoutUri).toBe('https://a.test/backchannel-logout');
        await store.clients.create({ clientId: 'quiet', name: 'Quiet', sealedSecret: null, redirectUris: ['https://b.test/cb'], postLogoutRedirectUris: [], firstParty: false });
        expect((await store.clients.find('quiet'))?.backchannelLogoutUri).toBeNull();
      });
    });

    describe('settings and keys', () => {
      it('reads, writes and overwrites settings', async () => {
        expect(await store.settings.get('site.mode')).toBeNull();
        await store.settings.set('site.mode', 'optional');
        await store.settings.set('site.mode', 'required');
        expect(await store.settings.get('site.mode')).toBe('required');
      });

      it('creates a key once; concurrent creators all read the winner', async () => {
        let calls = 0;
        const values = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.keys.getOrCreate('jwks', () => {
            calls += 1;
            return `value-${i}`;
          })),
        );
        expect(new Set(values).size).toBe(1);
        expect(await store.keys.getOrCreate('jwks', () => 'later')).toBe(values[0]);
        expect(calls).toBeGreaterThanOrEqual(1);
      });
    });

    describe('second factors', () => {
      const enable = (userId: string, hashes = ['h1', 'h2', 'h3']) =>
        store.secondFactors.enable({ userId, sealedSecret: `sealed-${userId}`, lastTimeStep: 100, recoveryKeyId: 'k1', recoveryCodeHashes: hashes });
      const user = () => store.users.create({ email: `${Math.random().toString(36).slice(2)}@x.test`, name: 'U', passwordHash: null, siteAdmin: false });

      it('enables once, with its recovery codes, and finds it', async () => {
        const { id } = await user();
        expect(await store.secondFactors.find(id)).toBeNull();
        expect(await enable(id)).toBe(true);
        // A second enable does not overwrite.
        expect(await enable(id, ['other'])).toBe(false);
        const found = await store.secondFactors.find(id);
        expect(found?.sealedSecret).toBe(`sealed-${id}`);
        expect(found?.lastTimeStep).toBe(100);
        expect(found?.recoveryCodes.map((code) => [code.hash, code.usedAt])).toStrictEqual([['h1', null], ['h2', null], ['h3', null]]);
        expect(new Set(found?.recoveryCodes.map((code) => code.id)).size).toBe(3);
      });

      it('accepts only newer time steps, once each, also under a race', async () => {
        const { id } = await user();
        await enable(id);
        // The step of the setup code is spent.
        expect(await store.secondFactors.acceptTimeStep(id, 100)).toBe(false);
        expect(await store.secondFactors.acceptTimeStep(id, 99)).toBe(false);
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.secondFactors.acceptTimeStep(id, 101)));
        expect(raced.filter(Boolean)).toHaveLength(1);
        expect((await store.secondFactors.find(id))?.lastTimeStep).toBe(101);
        expect(await store.secondFactors.acceptTimeStep('nobody', 500)).toBe(false);
      });

      it('replaces the secret of a new phone, keeping the recovery codes', async () => {
        const { id } = await user();
        await enable(id);
        const before = await store.secondFactors.find(id);
        expect(await store.secondFactors.replaceSecret(id, 'sealed-new-phone', 7)).toBe(true);
        const after = await store.secondFactors.find(id);
        expect([after?.sealedSecret, after?.lastTimeStep]).toStrictEqual(['sealed-new-phone', 7]);
        expect(after?.recoveryCodes).toStrictEqual(before?.recoveryCodes);
        expect(await store.secondFactors.replaceSecret('nobody', 'sealed', 1)).toBe(false);
      });

      it('uses a recovery code once, also under a race, and replaces the set', async () => {
        const { id } = await user();
        await enable(id);
        const [first] = (await store.secondFactors.find(id))!.recoveryCodes;
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.secondFactors.useRecoveryCode(id, first!.id)));
        expect(raced.filter(Boolean)).toHaveLength(1);
        const after = await store.secondFactors.find(id);
        expect(after?.recoveryCodes[0]?.usedAt).toBeInstanceOf(Date);
        expect(after?.recoveryCodes.filter((code) => code.usedAt === null)).toHaveLength(2);
        expect(await store.secondFactors.replaceRecoveryCodes(id, 'k2', ['n1', 'n2'])).toBe(true);
        const replaced = await store.secondFactors.find(id);
        expect(replaced?.recoveryKeyId).toBe('k2');
        expect(replaced?.recoveryCodes.map((code) => [code.hash, code.usedAt])).toStrictEqual([['n1', null], ['n2', null]]);
        // An old code is gone.
        expect(await store.secondFactors.useRecoveryCode(id, first!.id)).toBe(false);
        expect(await store.secondFactors.replaceRecoveryCodes('nobody', 'k2', ['x'])).toBe(false);
      });

      it('disables, deleting secret and codes, and reports who is enrolled', async () => {
        const a = await user();
        const b = await user();
        await enable(a.id);
        expect(await store.secondFactors.enrolledAmong([a.id, b.id])).toStrictEqual(new Set([a.id]));
        expect(await store.secondFactors.enrolledAmong([])).toStrictEqual(new Set());
        expect(await store.secondFactors.appsAmong([a.id, b.id])).toStrictEqual(new Set([a.id]));
        expect(await store.secondFactors.appsAmong([])).toStrictEqual(new Set());
        expect(await store.secondFactors.disable(a.id)).toBe(true);
        expect(await store.secondFactors.disable(a.id)).toBe(false);
        expect(await store.secondFactors.find(a.id)).toBeNull();
        // It can be set up again.
        expect(await enable(a.id, ['fresh'])).toBe(true);
        expect((await store.secondFactors.find(a.id))?.recoveryCodes.map((code) => code.hash)).toStrictEqual(['fresh']);
      });

      it('counts the unused recovery codes of many users at once, leaving out those not enrolled', async () => {
        const [ten, three, none, notEnrolled, notAsked] = [await user(), await user(), await user(), await user(), await user()];
        await enable(ten.id, Array.from({ length: 10 }, (_, i) => `t${i}`));
        await enable(three.id, ['a', 'b', 'c', 'd', 'e']);
        await enable(none.id, ['x', 'y']);
        await enable(notAsked.id);
        for (const [userId, used] of [[three.id, 2], [none.id, 2]] as const) {
          for (const code of (await store.secondFactors.find(userId))!.recoveryCodes.slice(0, used)) {
            expect(await store.secondFactors.useRecoveryCode(userId, code.id)).toBe(true);
          }
        }
        expect(await store.secondFactors.recoveryCodesRemaining([ten.id, three.id, none.id, notEnrolled.id, 'missing']))
          .toStrictEqual(new Map([[ten.id, 10], [three.id, 3], [none.id, 0]]));
        expect(await store.secondFactors.recoveryCodesRemaining([])).toStrictEqual(new Map());
      });
    });

    describe('security keys', () => {
      const user = () => store.users.create({ email: `${Math.random().toString(36).slice(2)}@x.test`, name: 'U', passwordHash: null, siteAdmin: false });
      const key = (userId: string, credentialId: string, extra: { counter?: number; synced?: boolean } = {}) => ({
        credentialId, userId, name: `key ${credentialId}`, publicKey: `pk-${credentialId}`, counter: extra.counter ?? 5, transports: ['usb', 'nfc'], synced: extra.synced ?? false,
      });
      const codes = (hashes = ['r1', 'r2']) => ({ recoveryKeyId: 'k1', recoveryCodeHashes: hashes });

      it('makes the first key a second factor of its own, without an app, with the recovery codes', async () => {
        const { id } = await user();
        expect(await store.securityKeys.add(key(id, 'cred-a'), codes())).toStrictEqual({ first: true });
        const factor = await store.secondFactors.find(id);
        expect(factor?.sealedSecret).toBeNull();
        expect(factor?.recoveryCodes.map((code) => code.hash)).toStrictEqual(['r1', 'r2']);
        expect(await store.secondFactors.enrolledAmong([id])).toStrictEqual(new Set([id]));
        // Keys only: no authenticator app.
        expect(await store.secondFactors.appsAmong([id])).toStrictEqual(new Set());
        // A second key keeps the codes it has.
        expect(await store.securityKeys.add(key(id, 'cred-b', { synced: true }), codes(['other']))).toStrictEqual({ first: false });
        expect((await store.secondFactors.find(id))?.recoveryCodes.map((code) => code.hash)).toStrictEqual(['r1', 'r2']);
        const keys = await store.securityKeys.listByUser(id);
        expect(keys.map((k) => [k.credentialId, k.name, k.publicKey, k.counter, k.transports, k.synced, k.lastUsedAt])).toStrictEqual([
          ['cred-a', 'key cred-a', 'pk-cred-a', 5, ['usb', 'nfc'], false, null],
          ['cred-b', 'key cred-b', 'pk-cred-b', 5, ['usb', 'nfc'], true, null],
        ]);
        expect(keys[0]?.createdAt).toBeInstanceOf(Date);
        expect(await store.securityKeys.find('cred-b')).toStrictEqual(keys[1]);
        expect(await store.securityKeys.find('missing')).toBeNull();
      });

      it('adds a key beside an app without touching the app or its codes', async () => {
        const { id } = await user();
        await store.secondFactors.enable({ userId: id, sealedSecret: 'sealed', lastTimeStep: 9, recoveryKeyId: 'k0', recoveryCodeHashes: ['app-code'] });
        expect(await store.securityKeys.add(key(id, 'cred-c'), codes())).toStrictEqual({ first: false });
        const factor = await store.secondFactors.find(id);
        expect([factor?.sealedSecret, factor?.lastTimeStep, factor?.recoveryCodes.map((code) => code.hash)]).toStrictEqual(['sealed', 9, ['app-code']]);
      });

      it('refuses a credential id that is already saved, for anyone, and changes nothing', async () => {
        const a = await user();
        const b = await user();
        await store.securityKeys.add(key(a.id, 'same'), codes());
        const duplicate = store.securityKeys.add(key(b.id, 'same'), codes());
        await expect(duplicate).rejects.toBeInstanceOf(DuplicateError);
        await expect(duplicate).rejects.toHaveProperty('field', 'credential id');
        expect(await store.secondFactors.find(b.id)).toBeNull();
        expect((await store.securityKeys.find('same'))?.userId).toBe(a.id);
      });

      it('records a use only when the counter moves forward, once under a race', async () => {
        const { id } = await user();
        await store.securityKeys.add(key(id, 'counted', { counter: 5 }), codes());
        const at = new Date('2026-01-02T03:04:05Z');
        expect(await store.securityKeys.recordUse('counted', 5, at)).toBe(false);
        expect(await store.securityKeys.recordUse('counted', 4, at)).toBe(false);
        expect((await store.securityKeys.find('counted'))?.lastUsedAt).toBeNull();
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.securityKeys.recordUse('counted', 6, at)));
        expect(raced.filter(Boolean)).toHaveLength(1);
        const after = await store.securityKeys.find('counted');
        expect([after?.counter, after?.lastUsedAt]).toStrictEqual([6, at]);
        expect(await store.securityKeys.recordUse('missing', 9, at)).toBe(false);
        // An authenticator without a counter always says 0; a key that had counted may not go back to 0.
        await store.securityKeys.add(key(id, 'uncounted', { counter: 0 }), codes());
        expect(await store.securityKeys.recordUse('uncounted', 0, at)).toBe(true);
        expect(await store.securityKeys.recordUse('uncounted', 0, at)).toBe(true);
        expect(await store.securityKeys.recordUse('counted', 0, at)).toBe(false);
      });

      it('removes a key, and with the last one of a user without an app the whole second factor', async () => {
        const { id } = await user();
        const other = await user();
        await store.securityKeys.add(key(id, 'k-1'), codes());
        await store.securityKeys.add(key(id, 'k-2'), codes());
        await store.securityKeys.add(key(other.id, 'k-3'), codes());
        expect(await store.securityKeys.remove(other.id, 'k-1')).toBe('not-found');
        expect(await store.securityKeys.remove(id, 'k-1')).toBe('removed');
        expect(await store.securityKeys.remove(id, 'k-1')).toBe('not-found');
        expect((await store.secondFactors.find(id))?.recoveryCodes).toHaveLength(2);
        expect(await store.securityKeys.remove(id, 'k-2')).toBe('removed-last');
        expect(await store.secondFactors.find(id)).toBeNull();
        expect(await store.securityKeys.listByUser(id)).toStrictEqual([]);
        expect(await store.securityKeys.countAmong([id, other.id, 'missing'])).toStrictEqual(new Map([[other.id, 1]]));
        expect(await store.securityKeys.countAmong([])).toStrictEqual(new Map());
      });

      it('keeps the last factor when asked to, also when removals of a user\'s last keys race', async () => {
        const { id } = await user();
        await store.securityKeys.add(key(id, 'race-1'), codes());
        await store.securityKeys.add(key(id, 'race-2'), codes());
        const raced = await Promise.all([
          store.securityKeys.remove(id, 'race-1', { keepLastFactor: true }),
          store.securityKeys.remove(id, 'race-2', { keepLastFactor: true }),
        ]);
        // At most one goes; the other is refused (on a store without transactions both may be).
        expect(raced.every((outcome) => outcome === 'removed' || outcome === 'last-factor-kept')).toBe(true);
        expect(raced.filter((outcome) => outcome === 'removed').length).toBeLessThanOrEqual(1);
        const left = await store.securityKeys.listByUser(id);
        expect(left.length).toBeGreaterThanOrEqual(1);
        expect(await store.secondFactors.find(id)).not.toBeNull();
        // The one left stays while a factor must; it may go when none must.
        expect(await store.securityKeys.remove(id, left[0]!.credentialId, { keepLastFactor: true })).toBe('last-factor-kept');
        expect(await store.securityKeys.listByUser(id)).toHaveLength(1);
        expect(await store.securityKeys.remove(id, left[0]!.credentialId, { keepLastFactor: false })).toBe('removed-last');
        // Beside an app, a key is never the last factor.
        const withApp = await user();
        await store.secondFactors.enable({ userId: withApp.id, sealedSecret: 'sealed', lastTimeStep: 1, recoveryKeyId: 'k0', recoveryCodeHashes: ['c'] });
        await store.securityKeys.add(key(withApp.id, 'beside-app'), codes());
        expect(await store.securityKeys.remove(withApp.id, 'beside-app', { keepLastFactor: true })).toBe('removed');
        expect(await store.securityKeys.remove(withApp.id, 'not-a-key', { keepLastFactor: true })).toBe('not-found');
      });

      it('keeps the app when its user removes the last key', async () => {
        const { id } = await user();
        await store.secondFactors.enable({ userId: id, sealedSecret: 'sealed', lastTimeStep: 1, recoveryKeyId: 'k0', recoveryCodeHashes: ['c'] });
        await store.securityKeys.add(key(id, 'only'), codes());
        expect(await store.securityKeys.remove(id, 'only')).toBe('removed');
        expect((await store.secondFactors.find(id))?.sealedSecret).toBe('sealed');
      });

      it('goes with the second factor when it is disabled, and the credential id can be added again', async () => {
        const { id } = await user();
        await store.secondFactors.enable({ userId: id, sealedSecret: 'sealed', lastTimeStep: 1, recoveryKeyId: 'k0', recoveryCodeHashes: ['c'] });
        await store.securityKeys.add(key(id, 'gone'), codes());
        expect(await store.secondFactors.disable(id)).toBe(true);
        expect(await store.securityKeys.listByUser(id)).toStrictEqual([]);
        expect(await store.securityKeys.find('gone')).toBeNull();
        expect(await store.securityKeys.add(key(id, 'gone'), codes())).toStrictEqual({ first: true });
        expect(await store.secondFactors.disable(id)).toBe(true);
        expect(await store.secondFactors.find(id)).toBeNull();
      });

      it('lets an app be set up beside keys', async () => {
        const { id } = await user();
        await store.securityKeys.add(key(id, 'first'), codes());
        expect(await store.secondFactors.replaceSecret(id, 'sealed-app', 3)).toBe(true);
        expect(await store.securityKeys.remove(id, 'first')).toBe('removed');
        expect((await store.secondFactors.find(id))?.sealedSecret).toBe('sealed-app');
      });
    });

    describe('pending enrollments', () => {
      it('puts, replaces, finds until expiry, and deletes', async () => {
        const expiresAt = new Date(Date.now() + 60_000);
        await store.enrollments.put({ id: 'i1', userId: 'u1', sealedSecret: 's1', sealedRecoveryCodes: null, expiresAt });
        expect((await store.enrollments.find('i1'))?.sealedSecret).toBe('s1');
        await store.enrollments.put({ id: 'i1', userId: 'u1', sealedSecret: 's1', sealedRecoveryCodes: 'codes', expiresAt });
        expect((await store.enrollments.find('i1'))?.sealedRecoveryCodes).toBe('codes');
        await store.enrollments.put({ id: 'old', userId: 'u1', sealedSecret: 's', sealedRecoveryCodes: null, expiresAt: new Date(Date.now() - 1) });
        expect(await store.enrollments.find('old')).toBeNull();
        await store.enrollments.delete('i1');
        expect(await store.enrollments.find('i1')).toBeNull();
      });
    });

    describe('attempt counters', () => {
      // Every time is given, relative to one moment: nothing depends on how long the test takes.
      const now = new Date();
      const later = (ms: number) => new Date(now.getTime() + ms);

      it('counts atomically under a race', async () => {
        const states = await Promise.all(Array.from({ length: 20 }, () => store.attempts.charge('k', now, later(60_000))));
        expect(states.map((state) => state.count).sort((a, b) => a - b)).toStrictEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('locks once, stays locked while counting, and starts again when the lock runs out', async () => {
        await store.attempts.charge('k', now, later(60_000));
        const lockers = await Promise.all([1, 2, 3].map(() => store.attempts.lock('k', later(1000), now)));
        // One caller locks (and sends the one e-mail)
        expect(lockers.filter(Boolean)).toHaveLength(1);
        const locked = await store.attempts.charge('k', later(500), later(60_000));
        expect(locked.count).toBe(2);
        expect(locked.lockedUntil?.getTime()).toBe(later(1000).getTime());
        const afterLock = await store.attempts.charge('k', later(2000), later(60_000));
        expect(afterLock).toStrictEqual({ count: 1, lockedUntil: null });
      });

      it('peeks without counting', async () => {
        expect(await store.attempts.peek('p', now)).toBeNull();
        await store.attempts.charge('p', now, later(60_000));
        expect(await store.attempts.peek('p', later(100))).toStrictEqual({ count: 1, lockedUntil: null });
        expect(await store.attempts.peek('p', later(200))).toStrictEqual({ count: 1, lockedUntil: null });
        const until = later(1000);
        await store.attempts.lock('p', until, later(300));
        expect((await store.attempts.peek('p', later(500)))?.lockedUntil?.getTime()).toBe(until.getTime());
        // A lock that ran out reads as nothing.
        expect(await store.attempts.peek('p', later(2000))).toBeNull();
      });

      it('resets and forgets', async () => {
        await store.attempts.charge('a', now, later(3_600_000));
        await store.attempts.charge('a', now, later(3_600_000));
        await store.attempts.reset('a');
        expect((await store.attempts.charge('a', now, later(3_600_000))).count).toBe(1);
        await store.attempts.charge('b', new Date(), new Date(Date.now() - 1));
        expect(await store.attempts.purgeExpired()).toBe(1);
      });
    });

    describe('audit log', () => {
      const event = (organizationId: string | null, action: 'member.added' | 'policy.changed', n: number) => ({
        organizationId, action, actorId: 'a1', actorEmail: 'owner@x.test', targetId: `t${n}`, targetEmail: `t${n}@x.test`, ip: '127.0.0.1', details: { n },
      });

      it('appends events and lists them per organization, newest first, with paging', async () => {
        for (let n = 0; n < 7; n += 1) await store.audit.append([event('org-a', 'member.added', n)]);
        await store.audit.append([event('org-b', 'policy.changed', 99), event(null, 'policy.changed', 100)]);
        const first = await store.audit.list('org-a', { limit: 3, offset: 0 });
        expect(first.total).toBe(7);
        expect(first.events.map((e) => e.details.n)).toStrictEqual([6, 5, 4]);
        expect((await store.audit.list('org-a', { limit: 3, offset: 6 })).events.map((e) => e.details.n)).toStrictEqual([0]);
        const [only] = (await store.audit.list('org-b', { limit: 10, offset: 0 })).events;
        expect(only?.action).toBe('policy.changed');
        expect(only?.actorEmail).toBe('owner@x.test');
        expect(only?.ip).toBe('127.0.0.1');
        expect(only?.at).toBeInstanceOf(Date);
        expect((await store.audit.list(null, { limit: 10, offset: 0 })).events.map((e) => e.details.n)).toStrictEqual([100]);
      });

      it('deletes the events recorded before a moment, and only those', async () => {
        const start = Date.now();
        await atTime(start, () => store.audit.append([event('org-a', 'member.added', 1), event(null, 'policy.changed', 2)]));
        const cutoff = new Date(start + 1000);
        await atTime(start + 2000, () => store.audit.append([event('org-a', 'member.added', 3)]));
        expect(await store.audit.deleteOlderThan(new Date(0))).toBe(0);
        expect(await store.audit.deleteOlderThan(cutoff)).toBe(2);
        expect((await store.audit.list('org-a', { limit: 10, offset: 0 })).events.map((e) => e.details.n)).toStrictEqual([3]);
        expect((await store.audit.list(null, { limit: 10, offset: 0 })).total).toBe(0);
      });
    });

    describe('mail outbox', () => {
      const T = new Date('2026-03-01T08:00:00.000Z');
      const at = (ms: number) => new Date(T.getTime() + ms);
      const MINUTE = 60_000;
      let queued = 0;
      const message = (overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage => {
        queued += 1;
        return {
          id: `m${String(queued).padStart(3, '0')}`,
          message: 'two-factor-disabled',
          to: `member${queued}@x.test`,
          subject: 'Two-factor authentication was turned off for your account',
          sealedBody: `sealed-${queued}`,
          queuedAt: at(queued),
          giveUpAt: at(queued + GIVE_UP_AFTER_MS),
          ...overrides,
        };
      };

      it('claims a due message once, with its body, and counts what is pending and since when', async () => {
        expect(await store.outbox.depth()).toStrictEqual({ pending: 0, oldestQueuedAt: null, failed: 0 });
        const first = message();
        await store.outbox.enqueue(first);
        await store.outbox.enqueue(message({ queuedAt: at(MINUTE) }));
        expect(await store.outbox.depth()).toStrictEqual({ pending: 2, oldestQueuedAt: first.queuedAt, failed: 0 });
        // Not due before it was queued.
        expect(await store.outbox.claim('w1', at(-1), at(MINUTE), 10)).toStrictEqual([]);
        const [claimed, ...rest] = await store.outbox.claim('w1', at(1000), at(5 * MINUTE), 10);
        expect(rest).toStrictEqual([]);
        expect(claimed).toStrictEqual({
          id: first.id, message: first.message, to: first.to, subject: first.subject, state: 'pending', queuedAt: first.queuedAt,
          attempts: 1, lastError: null, finishedAt: null, sealedBody: first.sealedBody, giveUpAt: first.giveUpAt,
        });
        // Claimed, it is not due for anyone until its lease ends.
        expect(await store.outbox.claim('w2', at(2 * MINUTE), at(7 * MINUTE), 10)).toHaveLength(1);
        expect(await store.outbox.claim('w3', at(3 * MINUTE), at(8 * MINUTE), 10)).toStrictEqual([]);
        expect(await store.outbox.markSent(first.id, 'w1', at(4 * MINUTE))).toBe(true);
        expect((await store.outbox.depth()).pending).toBe(1);
      });

      it('never gives two racing claimers the same message', async () => {
        const ids = [];
        for (let n = 0; n < 24; n += 1) {
          const next = message();
          ids.push(next.id);
          await store.outbox.enqueue(next);
        }
        const claimedBy = await Promise.all(['a', 'b', 'c', 'd'].map(async (worker) => {
          const mine: string[] = [];
          // Bounded, so that a claim that hands out the same messages again fails here instead of looping.
          for (let round = 0; round < 24; round += 1) {
            const batch = await store.outbox.claim(worker, at(MINUTE), at(10 * MINUTE), 3);
            if (batch.length === 0) break;
            mine.push(...batch.map((claimed) => claimed.id));
          }
          return mine;
        }));
        const all = claimedBy.flat();
        expect(all.sort()).toStrictEqual(ids.sort());
        expect(new Set(all).size).toBe(24);
      });

      it('claims only the messages asked for, when asked', async () => {
        const [a, b, c] = [message(), message(), message()];
        for (const next of [a, b, c]) await store.outbox.enqueue(next);
        expect((await store.outbox.claim('cli', at(MINUTE), at(5 * MINUTE), 10, [c!.id, a!.id, 'missing'])).map((claimed) => claimed.id)).toStrictEqual([a!.id, c!.id]);
        expect(await store.outbox.claim('cli', at(MINUTE), at(5 * MINUTE), 10, [])).toStrictEqual([]);
        expect((await store.outbox.claim('server', at(MINUTE), at(5 * MINUTE), 10)).map((claimed) => claimed.id)).toStrictEqual([b!.id]);
      });

      it('lets another worker reclaim a message whose lease ran out, and then only that worker finish it', async () => {
        const lost = message();
        await store.outbox.enqueue(lost);
        expect(await store.outbox.claim('crashed', at(MINUTE), at(6 * MINUTE), 10)).toHaveLength(1);
        expect(await store.outbox.claim('other', at(6 * MINUTE - 1), at(20 * MINUTE), 10)).toStrictEqual([]);
        const [reclaimed] = await store.outbox.claim('other', at(6 * MINUTE), at(20 * MINUTE), 10);
        expect([reclaimed?.id, reclaimed?.attempts]).toStrictEqual([lost.id, 2]);
        // The first worker comes back too late: the message is no longer its to finish.
        expect(await store.outbox.markSent(lost.id, 'crashed', at(7 * MINUTE))).toBe(false);
        expect(await store.outbox.reschedule(lost.id, 'crashed', at(8 * MINUTE), 'late')).toBe(false);
        expect(await store.outbox.markFailed(lost.id, 'crashed', at(8 * MINUTE), 'late')).toBe(false);
        expect(await store.outbox.markSent(lost.id, 'other', at(9 * MINUTE))).toBe(true);
        expect(await store.outbox.claim('anyone', at(60 * MINUTE), at(70 * MINUTE), 10)).toStrictEqual([]);
        expect(await store.outbox.depth()).toStrictEqual({ pending: 0, oldestQueuedAt: null, failed: 0 });
      });

      it('retries with backoff for 24 hours, then gives up and lists the message as failed', async () => {
        const doomed = message();
        await store.outbox.enqueue(doomed);
        const firstRetryMs = 30_000;
        const attemptTimes: number[] = [];
        let now = doomed.queuedAt;
        for (;;) {
          expect(await store.outbox.claim('w', new Date(now.getTime() - 1), new Date(now.getTime() + MINUTE), 10)).toStrictEqual([]);
          const [claimed] = await store.outbox.claim('w', now, new Date(now.getTime() + MINUTE), 10);
          expect(claimed?.id).toBe(doomed.id);
          attemptTimes.push(now.getTime() - doomed.queuedAt.getTime());
          const next = afterFailedAttempt(claimed!.attempts, now, claimed!.giveUpAt, firstRetryMs);
          if (next.kind === 'give-up') {
            expect(await store.outbox.markFailed(doomed.id, 'w', now, 'connect ECONNREFUSED 127.0.0.1:25')).toBe(true);
            break;
          }
          expect(await store.outbox.reschedule(doomed.id, 'w', next.at, 'connect ECONNREFUSED 127.0.0.1:25')).toBe(true);
          now = next.at;
        }
        // 30 s, then twice as long each time up to an hour, until the day is over.
        expect(attemptTimes.slice(0, 9)).toStrictEqual([0, 30, 90, 210, 450, 930, 1890, 3810, 7410].map((seconds) => seconds * 1000));
        expect(attemptTimes.at(-1)).toBe(GIVE_UP_AFTER_MS);
        expect(attemptTimes.at(-2)).toBeGreaterThan(GIVE_UP_AFTER_MS - 3_600_000);
        expect(await store.outbox.claim('w', at(2 * GIVE_UP_AFTER_MS), at(3 * GIVE_UP_AFTER_MS), 10)).toStrictEqual([]);
        expect(await store.outbox.depth()).toStrictEqual({ pending: 0, oldestQueuedAt: null, failed: 1 });
        expect(await store.outbox.listFailed(10)).toStrictEqual([{
          id: doomed.id, message: doomed.message, to: doomed.to, subject: doomed.subject, state: 'failed', queuedAt: doomed.queuedAt,
          attempts: attemptTimes.length, lastError: 'connect ECONNREFUSED 127.0.0.1:25', finishedAt: doomed.giveUpAt,
        }]);
      });

      it('sends a failed message again after a retry, once, also when two retries race', async () => {
        const [older, newer] = [message(), message()];
        for (const next of [older!, newer!]) {
          await store.outbox.enqueue(next);
          await store.outbox.claim('w', next.queuedAt, at(MINUTE), 1);
          await store.outbox.markFailed(next.id, 'w', new Date(next.queuedAt.getTime() + 10), 'mailbox unavailable');
        }
        expect((await store.outbox.listFailed(10)).map((entry) => entry.id)).toStrictEqual([newer!.id, older!.id]);
        expect((await store.outbox.listFailed(1)).map((entry) => entry.id)).toStrictEqual([newer!.id]);
        // Failed messages are not due.
        expect(await store.outbox.claim('w', at(GIVE_UP_AFTER_MS), at(GIVE_UP_AFTER_MS + MINUTE), 10)).toStrictEqual([]);

        const retriedAt = at(2 * GIVE_UP_AFTER_MS);
        const retries = await Promise.all([store.outbox.retry(older!.id, retriedAt, at(3 * GIVE_UP_AFTER_MS)), store.outbox.retry(older!.id, retriedAt, at(3 * GIVE_UP_AFTER_MS))]);
        expect(retries.filter((entry) => entry !== null)).toStrictEqual([
          expect.objectContaining({ id: older!.id, state: 'pending', attempts: 0, finishedAt: null, to: older!.to }),
        ]);
        expect(await store.outbox.retry(older!.id, retriedAt, at(3 * GIVE_UP_AFTER_MS))).toBeNull();
        expect(await store.outbox.retry('missing', retriedAt, at(3 * GIVE_UP_AFTER_MS))).toBeNull();
        expect((await store.outbox.listFailed(10)).map((entry) => entry.id)).toStrictEqual([newer!.id]);
        const [again] = await store.outbox.claim('w', retriedAt, at(2 * GIVE_UP_AFTER_MS + MINUTE), 10);
        expect([again?.id, again?.attempts, again?.sealedBody, again?.giveUpAt]).toStrictEqual([older!.id, 1, older!.sealedBody, at(3 * GIVE_UP_AFTER_MS)]);
        expect(await store.outbox.markSent(older!.id, 'w', retriedAt)).toBe(true);
        expect(await store.outbox.claim('w', at(3 * GIVE_UP_AFTER_MS), at(4 * GIVE_UP_AFTER_MS), 10)).toStrictEqual([]);
      });

      it('purges sent and failed messages that finished before the given moments', async () => {
        const [sent, failed, recent] = [message(), message(), message()];
        for (const next of [sent!, failed!, recent!]) await store.outbox.enqueue(next);
        await store.outbox.claim('w', at(MINUTE), at(2 * MINUTE), 10);
        await store.outbox.markSent(sent!.id, 'w', at(MINUTE));
        await store.outbox.markFailed(failed!.id, 'w', at(MINUTE), 'refused');
        await store.outbox.markSent(recent!.id, 'w', at(10 * MINUTE));
        expect(await store.outbox.purge(at(5 * MINUTE), at(MINUTE))).toBe(1);
        expect((await store.outbox.listFailed(10)).map((entry) => entry.id)).toStrictEqual([failed!.id]);
        expect(await store.outbox.purge(at(5 * MINUTE), at(5 * MINUTE))).toBe(1);
        expect(await store.outbox.listFailed(10)).toStrictEqual([]);
        expect(await store.outbox.purge(at(20 * MINUTE), at(20 * MINUTE))).toBe(1);
      });
    });

    describe('remembered browsers', () => {
      const at = new Date('2026-03-01T00:00:00Z');
      const later = new Date('2026-03-31T00:00:00Z');
      it('stores a browser by its token hash, lists the user\'s newest first, and removes only the owner\'s', async () => {
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const bob = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });
        const first = await store.rememberedBrowsers.create({ userId: ada.id, tokenHash: 'h1', description: 'Firefox', createdAt: at, expiresAt: later });
        const second = await store.rememberedBrowsers.create({ userId: ada.id, tokenHash: 'h2', description: 'Chrome', createdAt: new Date(at.getTime() + 1000), expiresAt: later });
        await store.rememberedBrowsers.create({ userId: bob.id, tokenHash: 'h3', description: 'Edge', createdAt: at, expiresAt: later });
        expect(await store.rememberedBrowsers.findByTokenHash('h1')).toStrictEqual(first);
        expect(await store.rememberedBrowsers.findByTokenHash('nope')).toBeNull();
        expect((await store.rememberedBrowsers.listByUser(ada.id)).map((browser) => browser.id)).toStrictEqual([second.id, first.id]);
        expect(await store.rememberedBrowsers.remove(bob.id, first.id)).toBe(false);
        expect(await store.rememberedBrowsers.findByTokenHash('h1')).not.toBeNull();
        expect(await store.rememberedBrowsers.remove(ada.id, first.id)).toBe(true);
        expect(await store.rememberedBrowsers.findByTokenHash('h1')).toBeNull();
        expect(await store.rememberedBrowsers.removeAllOf(ada.id)).toBe(1);
        expect(await store.rememberedBrowsers.listByUser(ada.id)).toStrictEqual([]);
        expect(await store.rememberedBrowsers.listByUser(bob.id)).toHaveLength(1);
      });

      it('purges the expired ones', async () => {
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        await store.rememberedBrowsers.create({ userId: ada.id, tokenHash: 'old', description: 'Old', createdAt: at, expiresAt: new Date(at.getTime() + 1000) });
        await store.rememberedBrowsers.create({ userId: ada.id, tokenHash: 'new', description: 'New', createdAt: at, expiresAt: later });
        expect(await store.rememberedBrowsers.purgeExpired(new Date(at.getTime() + 2000))).toBe(1);
        expect(await store.rememberedBrowsers.findByTokenHash('new')).not.toBeNull();
      });
    });

    describe('deadline reminders', () => {
      it('lets one of racing claims of the same reminder win, and keeps deadlines and reminders apart', async () => {
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const deadline = new Date('2026-04-01T00:00:00Z');
        const claims = await Promise.all(Array.from({ length: 8 }, () => store.deadlineReminders.claim(ada.id, deadline, '7-days', new Date())));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.deadlineReminders.claim(ada.id, deadline, '1-day', new Date())).toBe(true);
        expect(await store.deadlineReminders.claim(ada.id, new Date('2026-03-25T00:00:00Z'), '7-days', new Date())).toBe(true);
        expect(await store.deadlineReminders.claim(ada.id, deadline, '7-days', new Date())).toBe(false);
      });
    });

    describe('adoption snapshots', () => {
      it('keeps one snapshot per organization and day, the latest figures winning, listed oldest first', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        await store.adoption.record({ organizationId: city.id, day: '2026-03-02', members: 10, enrolled: 4 });
        await store.adoption.record({ organizationId: city.id, day: '2026-03-01', members: 10, enrolled: 2 });
        await store.adoption.record({ organizationId: city.id, day: '2026-03-02', members: 10, enrolled: 5 });
        await store.adoption.record({ organizationId: county.id, day: '2026-03-02', members: 3, enrolled: 3 });
        expect(await store.adoption.list(city.id, '2026-03-01')).toStrictEqual([
          { organizationId: city.id, day: '2026-03-01', members: 10, enrolled: 2 },
          { organizationId: city.id, day: '2026-03-02', members: 10, enrolled: 5 },
        ]);
        expect(await store.adoption.list(city.id, '2026-03-02')).toHaveLength(1);
      });
    });

    describe('health', () => {
      it('answers a ping while open, and refuses once closed', async () => {
        await expect(store.outbox.depth()).resolves.toBeTruthy();
        await expect(store.ping()).resolves.toBeUndefined();
        const other = await open();
        await other.close();
        await expect(other.ping()).rejects.toThrow();
      });
    });

    describe('identity links', () => {
      it('links one upstream subject to one user, per issuer', async () => {
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const bob = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });
        expect(await store.identityLinks.findUser('https://idp.test', 'sub-1')).toBeNull();
        await store.identityLinks.link('https://idp.test', 'sub-1', ada.id);
        expect(await store.identityLinks.findUser('https://idp.test', 'sub-1')).toBe(ada.id);
        expect(await store.identityLinks.findUser('https://other.test', 'sub-1')).toBeNull();
        for (const [subject, user] of [['sub-1', bob.id], ['sub-2', ada.id]] as const) {
          await expect(store.identityLinks.link('https://idp.test', subject, user)).rejects.toThrow(DuplicateError);
        }
        await store.identityLinks.link('https://other.test', 'sub-1', bob.id);
        expect(await store.identityLinks.findUser('https://other.test', 'sub-1')).toBe(bob.id);
      });
    });

    describe('invitations', () => {
      it('is used once, also under a race, and not after it expires', async () => {
        const user = await store.users.create({ email: 'new@x.test', name: 'New', passwordHash: null, siteAdmin: false });
        await store.invitations.create('hash-1', user.id, new Date(Date.now() + 60_000));
        expect(await store.invitations.find('hash-1')).toBe(user.id);
        const raced = await Promise.all(Array.from({ length: 5 }, () => store.invitations.consume('hash-1')));
        expect(raced.filter(Boolean)).toStrictEqual([user.id]);
        expect(await store.invitations.find('hash-1')).toBeNull();
        await store.invitations.create('hash-2', user.id, new Date(Date.now() - 1));
        expect(await store.invitations.consume('hash-2')).toBeNull();
      });

      it('ends every link of one user at once, and no one else\'s', async () => {
        const user = await store.users.create({ email: 'reset@x.test', name: 'Reset', passwordHash: null, siteAdmin: false });
        const other = await store.users.create({ email: 'other@x.test', name: 'Other', passwordHash: null, siteAdmin: false });
        await store.invitations.create('older', user.id, new Date(Date.now() + 60_000));
        await store.invitations.create('newer', user.id, new Date(Date.now() + 60_000));
        await store.invitations.create('theirs', other.id, new Date(Date.now() + 60_000));
        expect(await store.invitations.removeAllOf(user.id)).toBe(2);
        expect([await store.invitations.find('older'), await store.invitations.find('newer'), await store.invitations.find('theirs')]).toStrictEqual([null, null, other.id]);
        expect(await store.invitations.removeAllOf(user.id)).toBe(0);
      });
    });

    describe('account erasure', () => {
      it('deletes every record of the person, keeps their audit entries under a pseudonym, and frees the address', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada Lovelace', passwordHash: 'argon2-hash', siteAdmin: false });
        const bob = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: 'h', siteAdmin: false });
        const later = new Date(Date.now() + 3_600_000);
        await store.memberships.put(city.id, ada.id, 'member');
        await store.memberships.put(city.id, bob.id, 'owner');
        await store.membershipInvitations.put({ organizationId: county.id, userId: ada.id, role: 'member', invitedBy: bob.id, expiresAt: later });
        await store.invitations.create('link-hash', ada.id, later);
        await store.identityLinks.link('https://idp.test', 'upstream-ada', ada.id);
        await store.rememberedBrowsers.create({ userId: ada.id, tokenHash: 'browser-hash', description: 'Firefox', createdAt: new Date(), expiresAt: later });
        await store.deadlineReminders.claim(ada.id, later, '7-days', new Date());
        await store.securityKeys.add({ credentialId: 'ada-key', userId: ada.id, name: 'Blue key', publicKey: 'pk', counter: 0, transports: [], synced: false }, { recoveryKeyId: 'k', recoveryCodeHashes: ['r1'] });
        await store.enrollments.put({ id: 'setup-ada', userId: ada.id, sealedSecret: 'sealed', sealedRecoveryCodes: null, expiresAt: later });
        await store.oidc.upsert('Session', 'ada-session', { kind: 'Session', accountId: ada.id }, later);
        await store.oidc.upsert('RefreshToken', 'ada-token', { kind: 'RefreshToken', accountId: ada.id, grantId: 'g' }, later);
        await store.outbox.enqueue({ id: 'mail-ada', message: 'two-factor-enabled', to: 'ada@x.test', subject: 's', sealedBody: 'b', queuedAt: new Date(), giveUpAt: later });
        await store.outbox.enqueue({ id: 'mail-bob', message: 'two-factor-enabled', to: 'bob@x.test', subject: 's', sealedBody: 'b', queuedAt: new Date(), giveUpAt: later });
        await store.audit.append([
          { organizationId: city.id, action: 'member.added', actorId: bob.id, actorEmail: 'bob@x.test', targetId: ada.id, targetEmail: 'ada@x.test', ip: null, details: { role: 'member' } },
          { organizationId: city.id, action: 'two_factor.reset_by_admin', actorId: ada.id, actorEmail: 'ada@x.test', targetId: bob.id, targetEmail: 'bob@x.test', ip: null, details: { reason: 'Ada@X.test asked for it' } },
          { organizationId: null, action: 'email.retried', actorId: null, actorEmail: null, targetId: ada.id, targetEmail: 'ada@x.test', ip: null, details: { to: 'ada@x.test', subject: 's' } },
        ]);

        expect(await store.erasure.erase(ada.id, 'deleted user 4f2c1a9e')).toBe(true);

        expect(await store.users.findById(ada.id)).toBeNull();
        expect(await store.users.findByEmail('ada@x.test')).toBeNull();
        expect(await store.memberships.listByUser(ada.id)).toStrictEqual([]);
        expect(await store.membershipInvitations.listByUser(ada.id)).toStrictEqual([]);
        expect(await store.invitations.find('link-hash')).toBeNull();
        expect(await store.identityLinks.findUser('https://idp.test', 'upstream-ada')).toBeNull();
        expect(await store.rememberedBrowsers.findByTokenHash('browser-hash')).toBeNull();
        expect(await store.secondFactors.find(ada.id)).toBeNull();
        expect(await store.securityKeys.find('ada-key')).toBeNull();
        expect(await store.enrollments.find('setup-ada')).toBeNull();
        expect(await store.oidc.find('Session', 'ada-session')).toBeNull();
        expect(await store.oidc.find('RefreshToken', 'ada-token')).toBeNull();
        // Only the messages addressed to the person went.
        expect((await store.outbox.claim('w', later, new Date(later.getTime() + 60_000), 10)).map((message) => message.id)).toStrictEqual(['mail-bob']);

        const cityLog = (await store.audit.list(city.id, { limit: 10, offset: 0 })).events;
        expect(cityLog.map((event) => [event.action, event.actorEmail, event.targetEmail, event.details]).sort()).toStrictEqual([
          ['member.added', 'bob@x.test', 'deleted user 4f2c1a9e', { role: 'member' }],
          ['two_factor.reset_by_admin', 'deleted user 4f2c1a9e', 'bob@x.test', { reason: 'deleted user 4f2c1a9e asked for it' }],
        ].sort());
        const siteLog = (await store.audit.list(null, { limit: 10, offset: 0 })).events;
        expect(siteLog.map((event) => [event.targetEmail, event.details])).toStrictEqual([['deleted user 4f2c1a9e', { to: 'deleted user 4f2c1a9e', subject: 's' }]]);

        // Someone else is untouched, and the address is free for a new, unrelated account.
        expect(await store.users.findById(bob.id)).toStrictEqual(bob);
        expect(await store.memberships.find(city.id, bob.id)).not.toBeNull();
        const again = await store.users.create({ email: 'ada@x.test', name: 'Another Ada', passwordHash: null, siteAdmin: false });
        expect(again.id).not.toBe(ada.id);
        expect(await store.memberships.listByUser(again.id)).toStrictEqual([]);
        expect(await store.erasure.erase(ada.id, 'deleted user 4f2c1a9e')).toBe(false);
      });
    });

    describe('logout notices', () => {
      const T = new Date('2026-03-01T08:00:00.000Z');
      const at = (ms: number) => new Date(T.getTime() + ms);
      const MINUTE = 60_000;
      const notice = (sid: string, clientId = 'app') => ({ clientId, accountId: 'u1', sid });
      const record = (notices: Array<ReturnType<typeof notice>>, queuedAt = T) => store.logoutNotices.record(notices, queuedAt, new Date(queuedAt.getTime() + GIVE_UP_AFTER_MS));

      it('records at most one notice per session and application, also when racing, and claims it once', async () => {
        const raced = await Promise.all(Array.from({ length: 5 }, () => record([notice('sid-1'), notice('sid-1', 'other-app')])));
        expect(raced.flat()).toHaveLength(2);
        expect(await record([notice('sid-1'), notice('sid-2')], at(MINUTE))).toHaveLength(1);
        expect(await record([])).toStrictEqual([]);
        expect(await store.logoutNotices.claim('w1', at(-1), at(MINUTE), 10)).toStrictEqual([]);
        const claimed = await store.logoutNotices.claim('w1', at(MINUTE), at(2 * MINUTE), 10);
        expect(claimed.map((claim) => [claim.clientId, claim.accountId, claim.sid, claim.attempts, claim.state]).sort()).toStrictEqual([
          ['app', 'u1', 'sid-1', 1, 'pending'], ['app', 'u1', 'sid-2', 1, 'pending'], ['other-app', 'u1', 'sid-1', 1, 'pending'],
        ]);
        expect(claimed[0]).toStrictEqual(expect.objectContaining({ queuedAt: T, giveUpAt: at(GIVE_UP_AFTER_MS), lastError: null, finishedAt: null }));
        expect(await store.logoutNotices.claim('w2', at(MINUTE + 1), at(3 * MINUTE), 10)).toStrictEqual([]);
        for (const { id } of claimed) expect(await store.logoutNotices.markSent(id, 'w1', at(MINUTE + 2))).toBe(true);
        // Once sent, the same session and application are never told again.
        expect(await record([notice('sid-1')], at(5 * MINUTE))).toStrictEqual([]);
        expect(await store.logoutNotices.claim('w1', at(10 * MINUTE), at(11 * MINUTE), 10)).toStrictEqual([]);
      });

      it('never gives two racing claimers the same notice, and claims only those asked for', async () => {
        const ids = await record(Array.from({ length: 24 }, (_, n) => notice(`sid-${n}`)));
        const claimedBy = await Promise.all(['a', 'b', 'c', 'd'].map(async (worker) => {
          const mine: string[] = [];
          for (let round = 0; round < 24; round += 1) {
            const batch = await store.logoutNotices.claim(worker, at(MINUTE), at(10 * MINUTE), 3);
            if (batch.length === 0) break;
            mine.push(...batch.map((claim) => claim.id));
          }
          return mine;
        }));
        expect(claimedBy.flat().sort()).toStrictEqual([...ids].sort());
        const [chosen] = await record([notice('chosen'), notice('left')], at(20 * MINUTE));
        expect((await store.logoutNotices.claim('w', at(21 * MINUTE), at(22 * MINUTE), 10, [chosen!, 'missing'])).map((claim) => claim.id)).toStrictEqual([chosen]);
        expect(await store.logoutNotices.claim('w', at(21 * MINUTE), at(22 * MINUTE), 10, [])).toStrictEqual([]);
      });

      it('lets another worker reclaim a notice whose lease ran out, and then only that worker finish it', async () => {
        const [lost] = await record([notice('lost')]);
        expect(await store.logoutNotices.claim('crashed', at(MINUTE), at(2 * MINUTE), 10)).toHaveLength(1);
        expect(await store.logoutNotices.claim('other', at(2 * MINUTE - 1), at(5 * MINUTE), 10)).toStrictEqual([]);
        const [reclaimed] = await store.logoutNotices.claim('other', at(2 * MINUTE), at(5 * MINUTE), 10);
        expect([reclaimed?.id, reclaimed?.attempts]).toStrictEqual([lost, 2]);
        expect(await store.logoutNotices.markSent(lost!, 'crashed', at(3 * MINUTE))).toBe(false);
        expect(await store.logoutNotices.reschedule(lost!, 'crashed', at(4 * MINUTE), 'late')).toBe(false);
        expect(await store.logoutNotices.markFailed(lost!, 'crashed', at(4 * MINUTE), 'late')).toBe(false);
        expect(await store.logoutNotices.markSent(lost!, 'other', at(4 * MINUTE))).toBe(true);
        expect(await store.logoutNotices.claim('anyone', at(60 * MINUTE), at(61 * MINUTE), 10)).toStrictEqual([]);
      });

      it('retries with backoff until it gives up, and purges what finished', async () => {
        const [doomed] = await record([notice('doomed')]);
        const [told] = await record([notice('told')]);
        let now = T;
        let attempts = 0;
        for (;;) {
          const batch = await store.logoutNotices.claim('w', now, new Date(now.getTime() + MINUTE), 10);
          const claimed = batch.find((claim) => claim.id === doomed);
          if (attempts === 0) expect(await store.logoutNotices.markSent(told!, 'w', now)).toBe(true);
          expect(claimed?.attempts).toBe(++attempts);
          const next = afterFailedAttempt(claimed!.attempts, now, claimed!.giveUpAt, 1000);
          if (next.kind === 'give-up') {
            expect(await store.logoutNotices.markFailed(doomed!, 'w', now, 'expected 200 OK, got: 503')).toBe(true);
            break;
          }
          expect(await store.logoutNotices.reschedule(doomed!, 'w', next.at, 'connect ECONNREFUSED')).toBe(true);
          expect(await store.logoutNotices.claim('w', new Date(next.at.getTime() - 1), next.at, 10)).toStrictEqual([]);
          now = next.at;
        }
        expect(now).toStrictEqual(at(GIVE_UP_AFTER_MS));
        expect(await store.logoutNotices.claim('w', at(2 * GIVE_UP_AFTER_MS), at(3 * GIVE_UP_AFTER_MS), 10)).toStrictEqual([]);
        expect(await store.logoutNotices.purge(T)).toBe(0);
        expect(await store.logoutNotices.purge(at(GIVE_UP_AFTER_MS))).toBe(1);
        expect(await store.logoutNotices.purge(at(GIVE_UP_AFTER_MS + 1))).toBe(1);
      });
    });

    describe('oidc-provider models', () => {
      const inAnHour = () => new Date(Date.now() + 3_600_000);

      it('stores, finds and replaces a payload, including keys with dots', async () => {
        const payload = { kind: 'Grant', accountId: 'u1', resources: { 'https://api.example.test/v1': 'read write' }, nested: { list: [1, 2] } };
        await store.oidc.upsert('Grant', 'g1', payload, inAnHour());
        expect(await store.oidc.find('Grant', 'g1')).toStrictEqual(payload);
        await store.oidc.upsert('Grant', 'g1', { ...payload, accountId: 'u2' }, inAnHour());
        expect((await store.oidc.find('Grant', 'g1'))?.accountId).toBe('u2');
        // Models are kept apart.
        expect(await store.oidc.find('Session', 'g1')).toBeNull();
      });

      it('keeps a payload without expiry and hides an expired one', async () => {
        await store.oidc.upsert('Session', 'forever', { kind: 'Session' }, null);
        await store.oidc.upsert('Session', 'gone', { kind: 'Session' }, new Date(Date.now() - 1000));
        expect(await store.oidc.find('Session', 'forever')).toBeTruthy();
        expect(await store.oidc.find('Session', 'gone')).toBeNull();
        expect(await store.oidc.purgeExpired()).toBe(1);
        expect(await store.oidc.find('Session', 'forever')).toBeTruthy();
      });

      it('finds by uid and by user code', async () => {
        await store.oidc.upsert('Session', 's1', { kind: 'Session', uid: 'uid-1' }, inAnHour());
        await store.oidc.upsert('DeviceCode', 'd1', { kind: 'DeviceCode', userCode: 'ABCD-EFGH' }, inAnHour());
        expect((await store.oidc.findByUid('Session', 'uid-1'))?.kind).toBe('Session');
        expect(await store.oidc.findByUid('Session', 'uid-2')).toBeNull();
        expect((await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.kind).toBe('DeviceCode');
        expect(await store.oidc.findByUserCode('DeviceCode', 'NOPE')).toBeNull();
      });

      it('consumes once, also when consumers race', async () => {
        await store.oidc.upsert('AuthorizationCode', 'c1', { kind: 'AuthorizationCode', grantId: 'g' }, inAnHour());
        const results = await Promise.all(Array.from({ length: 6 }, () => store.oidc.consume('AuthorizationCode', 'c1')));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(typeof (await store.oidc.find('AuthorizationCode', 'c1'))?.consumed).toBe('number');
        expect(await store.oidc.consume('AuthorizationCode', 'c1')).toBe(false);
      });

      it('ends the other sessions of an account, with their grants and tokens', async () => {
        await store.oidc.upsert('Session', 'mine', { kind: 'Session', accountId: 'u1', authorizations: { app: { grantId: 'g-mine' } } }, inAnHour());
        await store.oidc.upsert('Grant', 'g-mine', { kind: 'Grant', accountId: 'u1' }, inAnHour());
        await store.oidc.upsert('AccessToken', 't-mine', { kind: 'AccessToken', accountId: 'u1', grantId: 'g-mine' }, inAnHour());
        await store.oidc.upsert('Session', 'other', { kind: 'Session', accountId: 'u1', authorizations: { app: { grantId: 'g-other' } } }, inAnHour());
        await store.oidc.upsert('Grant', 'g-other', { kind: 'Grant', accountId: 'u1' }, inAnHour());
        await store.oidc.upsert('RefreshToken', 'r-other', { kind: 'RefreshToken', accountId: 'u1', grantId: 'g-other' }, inAnHour());
        await store.oidc.upsert('Session', 'someone-else', { kind: 'Session', accountId: 'u2' }, inAnHour());

        expect(await store.oidc.endSessionsOf('u1', 'mine')).toBe(1);
        for (const [model, id] of [['Session', 'mine'], ['Grant', 'g-mine'], ['AccessToken', 't-mine'], ['Session', 'someone-else']] as const) {
          // The row rides along so that a failure names it.
          expect([model, id, await store.oidc.find(model, id)]).toStrictEqual([model, id, expect.anything()]);
        }
        for (const [model, id] of [['Session', 'other'], ['Grant', 'g-other'], ['RefreshToken', 'r-other']] as const) {
          expect([model, id, await store.oidc.find(model, id)]).toStrictEqual([model, id, null]);
        }
        // Without an exception, every session ends.
        expect(await store.oidc.endSessionsOf('u1')).toBe(1);
        expect(await store.oidc.find('AccessToken', 't-mine')).toBeNull();
      });

      it('lists an account\'s live sessions with their ids', async () => {
        const ada = { kind: 'Session', accountId: 'u1', authorizations: { app: { sid: 'sid-1', grantId: 'g1' } } };
        await store.oidc.upsert('Session', 's1', ada, inAnHour());
        await store.oidc.upsert('Session', 's2', { kind: 'Session', accountId: 'u1' }, inAnHour());
        await store.oidc.upsert('Session', 'expired', { kind: 'Session', accountId: 'u1' }, new Date(Date.now() - 1000));
        await store.oidc.upsert('Grant', 'g1', { kind: 'Grant', accountId: 'u1' }, inAnHour());
        await store.oidc.upsert('Session', 'other', { kind: 'Session', accountId: 'u2' }, inAnHour());
        const sessions = await store.oidc.sessionsOf('u1');
        expect(sessions.sort((a, b) => a.id.localeCompare(b.id))).toStrictEqual([{ id: 's1', payload: ada }, { id: 's2', payload: { kind: 'Session', accountId: 'u1' } }]);
        expect(await store.oidc.sessionsOf('nobody')).toStrictEqual([]);
      });

      it('destroys one model and revokes, per kind, what was issued under a grant', async () => {
        await store.oidc.upsert('AccessToken', 'a1', { kind: 'AccessToken', grantId: 'g1' }, inAnHour());
        await store.oidc.upsert('RefreshToken', 'r1', { kind: 'RefreshToken', grantId: 'g1' }, inAnHour());
        await store.oidc.upsert('AccessToken', 'a2', { kind: 'AccessToken', grantId: 'g2' }, inAnHour());
        // A sign-in in progress that names the grant (oidc-provider keeps it through an account switch).
        await store.oidc.upsert('Interaction', 'i1', { kind: 'Interaction', grantId: 'g1', uid: 'i1' }, inAnHour());
        await store.oidc.destroy('AccessToken', 'a2');
        expect(await store.oidc.find('AccessToken', 'a2')).toBeNull();
        await store.oidc.revokeByGrantId('AccessToken', 'g1');
        expect(await store.oidc.find('AccessToken', 'a1')).toBeNull();
        expect(await store.oidc.find('RefreshToken', 'r1')).not.toBeNull();
        await store.oidc.revokeByGrantId('RefreshToken', 'g1');
        expect(await store.oidc.find('RefreshToken', 'r1')).toBeNull();
        expect(await store.oidc.find('Interaction', 'i1')).not.toBeNull();
      });

      it('revokes everything issued to one client, and nothing of another or of a session', async () => {
        for (const [model, id, clientId] of [['Grant', 'g1', 'rp'], ['AuthorizationCode', 'c1', 'rp'], ['AccessToken', 'a1', 'rp'], ['RefreshToken', 'r1', 'rp'], ['RefreshToken', 'r2', 'other']] as const) {
          await store.oidc.upsert(model, id, { kind: model, clientId, accountId: 'u1', grantId: 'g1' }, inAnHour());
        }
        await store.oidc.upsert('Session', 's1', { kind: 'Session', accountId: 'u1', authorizations: { rp: { grantId: 'g1' } } }, inAnHour());
        expect(await store.oidc.revokeByClientId('rp')).toBe(4);
        for (const [model, id] of [['Grant', 'g1'], ['AuthorizationCode', 'c1'], ['AccessToken', 'a1'], ['RefreshToken', 'r1']] as const) {
          expect([model, id, await store.oidc.find(model, id)]).toStrictEqual([model, id, null]);
        }
        expect(await store.oidc.find('RefreshToken', 'r2')).not.toBeNull();
        expect(await store.oidc.find('Session', 's1')).not.toBeNull();
        expect(await store.oidc.revokeByClientId('rp')).toBe(0);
      });
    });
  });
}
