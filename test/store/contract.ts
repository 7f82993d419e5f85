import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DuplicateError, type Store } from '../../src/store/types.js';

/**
 * The storage contract: every store implementation must pass this same suite. Each test gets a
 * fresh, empty store from `open`.
 */
export function storeContract(name: string, open: () => Promise<Store>, skip: string | false = false): void {
  if (skip) {
    it(`${name} store contract`, { skip }, () => undefined);
    return;
  }
  describe(`${name} store contract`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(() => store.close());

    describe('users', () => {
      it('creates a user and finds it by id and by email, case-insensitively', async () => {
        const user = await store.users.create({ email: 'Ada@Example.test', name: 'Ada', passwordHash: 'h', siteAdmin: false });
        assert.equal(user.email, 'ada@example.test');
        assert.equal(user.lastSignInAt, null);
        assert.ok(user.createdAt instanceof Date);
        assert.deepEqual(await store.users.findById(user.id), user);
        assert.deepEqual(await store.users.findByEmail('ADA@example.TEST'), user);
        assert.equal(await store.users.findByEmail('nobody@example.test'), null);
        assert.equal(await store.users.findById('missing'), null);
      });

      it('refuses a second user with the same email, whatever its case', async () => {
        await store.users.create({ email: 'ada@example.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        await assert.rejects(
          store.users.create({ email: 'ADA@example.test', name: 'Other', passwordHash: null, siteAdmin: true }),
          (error: unknown) => error instanceof DuplicateError && error.field === 'email',
        );
        assert.equal(await store.users.count(), 1);
      });

      it('finds users by ids and searches emails literally', async () => {
        const a = await store.users.create({ email: 'ann.lee+city@x.test', name: 'Ann', passwordHash: null, siteAdmin: false });
        const b = await store.users.create({ email: 'annaxlee@x.test', name: 'Anna', passwordHash: null, siteAdmin: false });
        await store.users.create({ email: 'bob@y.test', name: 'Bob', passwordHash: null, siteAdmin: false });
        assert.deepEqual((await store.users.findByIds([b.id, a.id, 'missing'])).map((user) => user.email), ['ann.lee+city@x.test', 'annaxlee@x.test']);
        assert.deepEqual(await store.users.findByIds([]), []);
        assert.deepEqual((await store.users.search('ANN', 10)).map((user) => user.email), ['ann.lee+city@x.test', 'annaxlee@x.test']);
        assert.deepEqual((await store.users.search('ann.lee+', 10)).map((user) => user.email), ['ann.lee+city@x.test'], '. and + are not patterns');
        assert.deepEqual((await store.users.search('x.test', 1)).length, 1);
      });

      it('creates many users in one batch, all or none', async () => {
        const created = await store.users.createMany([
          { email: 'One@x.test', name: 'One', passwordHash: 'h1', siteAdmin: false },
          { email: 'two@x.test', name: 'Two', passwordHash: null, siteAdmin: true },
        ]);
        assert.deepEqual(created.map((user) => user.email), ['one@x.test', 'two@x.test']);
        assert.deepEqual(await store.users.findById(created[1]!.id), created[1]);
        await assert.rejects(
          store.users.createMany([{ email: 'three@x.test', name: 'Three', passwordHash: null, siteAdmin: false }, { email: 'ONE@x.test', name: 'Dup', passwordHash: null, siteAdmin: false }]),
          DuplicateError,
        );
        assert.equal(await store.users.count(), 2);
        assert.deepEqual(await store.users.createMany([]), []);
      });

      it('updates the password hash and the last sign-in time', async () => {
        const user = await store.users.create({ email: 'a@x.test', name: 'A', passwordHash: 'old', siteAdmin: true });
        await store.users.updatePasswordHash(user.id, 'new');
        const at = new Date('2026-01-02T03:04:05.000Z');
        await store.users.recordSignIn(user.id, at);
        const reloaded = await store.users.findById(user.id);
        assert.equal(reloaded?.passwordHash, 'new');
        assert.equal(reloaded?.siteAdmin, true);
        assert.equal(reloaded?.lastSignInAt?.toISOString(), at.toISOString());
      });
    });

    describe('organizations', () => {
      it('creates organizations with unique slugs and finds them', async () => {
        const b = await store.organizations.create({ slug: 'county', name: 'County' });
        const a = await store.organizations.create({ slug: 'city', name: 'City' });
        assert.equal(a.forceTwoFactor, false);
        assert.deepEqual(await store.organizations.findBySlug('city'), a);
        assert.deepEqual(await store.organizations.findById(b.id), b);
        assert.equal(await store.organizations.findBySlug('nope'), null);
        assert.deepEqual((await store.organizations.list()).map((org) => org.slug), ['city', 'county']);
        assert.deepEqual((await store.organizations.findByIds([b.id, a.id])).map((org) => org.slug), ['city', 'county']);
        assert.deepEqual(await store.organizations.findByIds([]), []);
        await assert.rejects(store.organizations.create({ slug: 'city', name: 'Again' }), (error: unknown) => error instanceof DuplicateError && error.field === 'slug');
      });

      it('stores a federation, finds it by domain, and keeps a domain to one organization', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        assert.equal(city.federation, null);
        const federation = { issuer: 'https://idp.city.test', clientId: 'twofold', sealedClientSecret: 'sealed', domains: ['city.test', 'staff.city.test'] };
        await store.organizations.setFederation(city.id, federation);
        assert.deepEqual((await store.organizations.findById(city.id))?.federation, federation);
        assert.equal((await store.organizations.findByFederatedDomain('STAFF.city.test'))?.slug, 'city');
        assert.equal(await store.organizations.findByFederatedDomain('county.test'), null);
        await assert.rejects(
          store.organizations.setFederation(county.id, { ...federation, domains: ['city.test'] }),
          (error: unknown) => error instanceof DuplicateError && error.field === 'domain',
        );
        assert.equal((await store.organizations.findById(county.id))?.federation, null);
        await store.organizations.setFederation(city.id, null);
        assert.equal((await store.organizations.findById(city.id))?.federation, null);
        assert.equal(await store.organizations.findByFederatedDomain('city.test'), null);
        await store.organizations.setFederation(county.id, { ...federation, domains: ['city.test'] });
        assert.equal((await store.organizations.findByFederatedDomain('city.test'))?.slug, 'county');
      });

      it('stores the force-two-factor flag', async () => {
        const org = await store.organizations.create({ slug: 'city', name: 'City' });
        await store.organizations.setForceTwoFactor(org.id, true);
        assert.equal((await store.organizations.findById(org.id))?.forceTwoFactor, true);
        await store.organizations.setForceTwoFactor(org.id, false);
        assert.equal((await store.organizations.findBySlug('city'))?.forceTwoFactor, false);
      });
    });

    describe('memberships', () => {
      it('adds, re-roles, lists and removes memberships', async () => {
        const city = await store.organizations.create({ slug: 'city', name: 'City' });
        const county = await store.organizations.create({ slug: 'county', name: 'County' });
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const bob = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });

        const first = await store.memberships.put(city.id, ada.id, 'member');
        assert.equal(first.role, 'member');
        const promoted = await store.memberships.put(city.id, ada.id, 'owner');
        assert.equal(promoted.role, 'owner');
        assert.equal(promoted.createdAt.getTime(), first.createdAt.getTime(), 're-roling keeps the membership');
        await store.memberships.put(county.id, ada.id, 'member');
        await store.memberships.put(city.id, bob.id, 'member');

        assert.deepEqual((await store.memberships.listByUser(ada.id)).map((m) => [m.organizationId, m.role]).sort(), [[city.id, 'owner'], [county.id, 'member']].sort());
        assert.equal((await store.memberships.listByOrganization(city.id)).length, 2);
        assert.equal((await store.memberships.find(city.id, bob.id))?.role, 'member');
        await store.memberships.putMany([{ organizationId: county.id, userId: bob.id, role: 'owner' }, { organizationId: city.id, userId: bob.id, role: 'member' }]);
        assert.equal((await store.memberships.find(county.id, bob.id))?.role, 'owner');
        assert.equal(await store.memberships.remove(city.id, bob.id), true);
        assert.equal(await store.memberships.remove(city.id, bob.id), false);
        assert.equal(await store.memberships.find(city.id, bob.id), null);
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
        assert.deepEqual(await store.clients.find('app'), created);
        assert.deepEqual(created.redirectUris, ['https://a.test/cb', 'https://b.test/cb']);
        assert.equal(await store.clients.find('none'), null);
        await store.clients.create({ clientId: 'public', name: 'Public', sealedSecret: null, redirectUris: ['http://localhost/cb'], postLogoutRedirectUris: [], firstParty: false });
        assert.deepEqual((await store.clients.list()).map((client) => client.clientId), ['app', 'public']);
        await assert.rejects(
          store.clients.create({ ...created }),
          (error: unknown) => error instanceof DuplicateError && error.field === 'clientId',
        );
      });
    });

    describe('settings and keys', () => {
      it('reads, writes and overwrites settings', async () => {
        assert.equal(await store.settings.get('site.mode'), null);
        await store.settings.set('site.mode', 'optional');
        await store.settings.set('site.mode', 'required');
        assert.equal(await store.settings.get('site.mode'), 'required');
      });

      it('creates a key once; concurrent creators all read the winner', async () => {
        let calls = 0;
        const values = await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.keys.getOrCreate('jwks', () => {
            calls += 1;
            return `value-${i}`;
          })),
        );
        assert.equal(new Set(values).size, 1);
        assert.equal(await store.keys.getOrCreate('jwks', () => 'later'), values[0]);
        assert.ok(calls >= 1);
      });
    });

    describe('second factors', () => {
      const enable = (userId: string, hashes = ['h1', 'h2', 'h3']) =>
        store.secondFactors.enable({ userId, sealedSecret: `sealed-${userId}`, lastTimeStep: 100, recoveryKeyId: 'k1', recoveryCodeHashes: hashes });
      const user = () => store.users.create({ email: `${Math.random().toString(36).slice(2)}@x.test`, name: 'U', passwordHash: null, siteAdmin: false });

      it('enables once, with its recovery codes, and finds it', async () => {
        const { id } = await user();
        assert.equal(await store.secondFactors.find(id), null);
        assert.equal(await enable(id), true);
        assert.equal(await enable(id, ['other']), false, 'a second enable does not overwrite');
        const found = await store.secondFactors.find(id);
        assert.equal(found?.sealedSecret, `sealed-${id}`);
        assert.equal(found?.lastTimeStep, 100);
        assert.deepEqual(found?.recoveryCodes.map((code) => [code.hash, code.usedAt]), [['h1', null], ['h2', null], ['h3', null]]);
        assert.equal(new Set(found?.recoveryCodes.map((code) => code.id)).size, 3);
      });

      it('accepts only newer time steps, once each, also under a race', async () => {
        const { id } = await user();
        await enable(id);
        assert.equal(await store.secondFactors.acceptTimeStep(id, 100), false, 'the step of the setup code is spent');
        assert.equal(await store.secondFactors.acceptTimeStep(id, 99), false);
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.secondFactors.acceptTimeStep(id, 101)));
        assert.equal(raced.filter(Boolean).length, 1);
        assert.equal((await store.secondFactors.find(id))?.lastTimeStep, 101);
        assert.equal(await store.secondFactors.acceptTimeStep('nobody', 500), false);
      });

      it('uses a recovery code once, also under a race, and replaces the set', async () => {
        const { id } = await user();
        await enable(id);
        const [first] = (await store.secondFactors.find(id))!.recoveryCodes;
        const raced = await Promise.all(Array.from({ length: 6 }, () => store.secondFactors.useRecoveryCode(id, first!.id)));
        assert.equal(raced.filter(Boolean).length, 1);
        const after = await store.secondFactors.find(id);
        assert.ok(after?.recoveryCodes[0]?.usedAt instanceof Date);
        assert.equal(after?.recoveryCodes.filter((code) => code.usedAt === null).length, 2);
        assert.equal(await store.secondFactors.replaceRecoveryCodes(id, 'k2', ['n1', 'n2']), true);
        const replaced = await store.secondFactors.find(id);
        assert.equal(replaced?.recoveryKeyId, 'k2');
        assert.deepEqual(replaced?.recoveryCodes.map((code) => [code.hash, code.usedAt]), [['n1', null], ['n2', null]]);
        assert.equal(await store.secondFactors.useRecoveryCode(id, first!.id), false, 'an old code is gone');
        assert.equal(await store.secondFactors.replaceRecoveryCodes('nobody', 'k2', ['x']), false);
      });

      it('disables, deleting secret and codes, and reports who is enrolled', async () => {
        const a = await user();
        const b = await user();
        await enable(a.id);
        assert.deepEqual(await store.secondFactors.enrolledAmong([a.id, b.id]), new Set([a.id]));
        assert.deepEqual(await store.secondFactors.enrolledAmong([]), new Set());
        assert.equal(await store.secondFactors.disable(a.id), true);
        assert.equal(await store.secondFactors.disable(a.id), false);
        assert.equal(await store.secondFactors.find(a.id), null);
        assert.equal(await enable(a.id, ['fresh']), true, 'it can be set up again');
        assert.deepEqual((await store.secondFactors.find(a.id))?.recoveryCodes.map((code) => code.hash), ['fresh']);
      });
    });

    describe('pending enrollments', () => {
      it('puts, replaces, finds until expiry, and deletes', async () => {
        const expiresAt = new Date(Date.now() + 60_000);
        await store.enrollments.put({ id: 'i1', userId: 'u1', sealedSecret: 's1', sealedRecoveryCodes: null, expiresAt });
        assert.equal((await store.enrollments.find('i1'))?.sealedSecret, 's1');
        await store.enrollments.put({ id: 'i1', userId: 'u1', sealedSecret: 's1', sealedRecoveryCodes: 'codes', expiresAt });
        assert.equal((await store.enrollments.find('i1'))?.sealedRecoveryCodes, 'codes');
        await store.enrollments.put({ id: 'old', userId: 'u1', sealedSecret: 's', sealedRecoveryCodes: null, expiresAt: new Date(Date.now() - 1) });
        assert.equal(await store.enrollments.find('old'), null);
        await store.enrollments.delete('i1');
        assert.equal(await store.enrollments.find('i1'), null);
      });
    });

    describe('attempt counters', () => {
      const later = (ms: number) => new Date(Date.now() + ms);

      it('counts atomically under a race', async () => {
        const states = await Promise.all(Array.from({ length: 20 }, () => store.attempts.charge('k', new Date(), later(60_000))));
        assert.deepEqual(states.map((state) => state.count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('locks once, stays locked while counting, and starts again when the lock runs out', async () => {
        const now = new Date();
        await store.attempts.charge('k', now, later(60_000));
        const lockers = await Promise.all([1, 2, 3].map(() => store.attempts.lock('k', later(1000), now)));
        assert.equal(lockers.filter(Boolean).length, 1, 'one caller locks (and sends the one e-mail)');
        const locked = await store.attempts.charge('k', new Date(), later(60_000));
        assert.equal(locked.count, 2);
        assert.ok(locked.lockedUntil && locked.lockedUntil > new Date());
        const afterLock = await store.attempts.charge('k', later(2000), later(60_000));
        assert.deepEqual(afterLock, { count: 1, lockedUntil: null });
      });

      it('peeks without counting', async () => {
        assert.equal(await store.attempts.peek('p', new Date()), null);
        await store.attempts.charge('p', new Date(), later(60_000));
        assert.deepEqual(await store.attempts.peek('p', new Date()), { count: 1, lockedUntil: null });
        assert.deepEqual(await store.attempts.peek('p', new Date()), { count: 1, lockedUntil: null });
        const until = later(1000);
        await store.attempts.lock('p', until, new Date());
        assert.equal((await store.attempts.peek('p', new Date()))?.lockedUntil?.getTime(), until.getTime());
        assert.equal(await store.attempts.peek('p', later(2000)), null, 'a lock that ran out reads as nothing');
      });

      it('resets and forgets', async () => {
        await store.attempts.charge('a', new Date(), later(60_000));
        await store.attempts.charge('a', new Date(), later(60_000));
        await store.attempts.reset('a');
        assert.equal((await store.attempts.charge('a', new Date(), later(60_000))).count, 1);
        await store.attempts.charge('b', new Date(), new Date(Date.now() - 1));
        assert.equal(await store.attempts.purgeExpired(), 1);
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
        assert.equal(first.total, 7);
        assert.deepEqual(first.events.map((e) => e.details.n), [6, 5, 4]);
        assert.deepEqual((await store.audit.list('org-a', { limit: 3, offset: 6 })).events.map((e) => e.details.n), [0]);
        const [only] = (await store.audit.list('org-b', { limit: 10, offset: 0 })).events;
        assert.equal(only?.action, 'policy.changed');
        assert.equal(only?.actorEmail, 'owner@x.test');
        assert.equal(only?.ip, '127.0.0.1');
        assert.ok(only?.at instanceof Date);
        assert.deepEqual((await store.audit.list(null, { limit: 10, offset: 0 })).events.map((e) => e.details.n), [100]);
      });
    });

    describe('identity links', () => {
      it('links one upstream subject to one user, per issuer', async () => {
        const ada = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
        const bob = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });
        assert.equal(await store.identityLinks.findUser('https://idp.test', 'sub-1'), null);
        await store.identityLinks.link('https://idp.test', 'sub-1', ada.id);
        assert.equal(await store.identityLinks.findUser('https://idp.test', 'sub-1'), ada.id);
        assert.equal(await store.identityLinks.findUser('https://other.test', 'sub-1'), null);
        for (const [subject, user] of [['sub-1', bob.id], ['sub-2', ada.id]] as const) {
          await assert.rejects(store.identityLinks.link('https://idp.test', subject, user), DuplicateError);
        }
        await store.identityLinks.link('https://other.test', 'sub-1', bob.id);
        assert.equal(await store.identityLinks.findUser('https://other.test', 'sub-1'), bob.id);
      });
    });

    describe('invitations', () => {
      it('is used once, also under a race, and not after it expires', async () => {
        const user = await store.users.create({ email: 'new@x.test', name: 'New', passwordHash: null, siteAdmin: false });
        await store.invitations.create('hash-1', user.id, new Date(Date.now() + 60_000));
        assert.equal(await store.invitations.find('hash-1'), user.id);
        const raced = await Promise.all(Array.from({ length: 5 }, () => store.invitations.consume('hash-1')));
        assert.deepEqual(raced.filter(Boolean), [user.id]);
        assert.equal(await store.invitations.find('hash-1'), null);
        await store.invitations.create('hash-2', user.id, new Date(Date.now() - 1));
        assert.equal(await store.invitations.consume('hash-2'), null);
      });
    });

    describe('oidc-provider models', () => {
      const inAnHour = () => new Date(Date.now() + 3_600_000);

      it('stores, finds and replaces a payload, including keys with dots', async () => {
        const payload = { kind: 'Grant', accountId: 'u1', resources: { 'https://api.example.test/v1': 'read write' }, nested: { list: [1, 2] } };
        await store.oidc.upsert('Grant', 'g1', payload, inAnHour());
        assert.deepEqual(await store.oidc.find('Grant', 'g1'), payload);
        await store.oidc.upsert('Grant', 'g1', { ...payload, accountId: 'u2' }, inAnHour());
        assert.equal((await store.oidc.find('Grant', 'g1'))?.accountId, 'u2');
        assert.equal(await store.oidc.find('Session', 'g1'), null, 'models are kept apart');
      });

      it('keeps a payload without expiry and hides an expired one', async () => {
        await store.oidc.upsert('Session', 'forever', { kind: 'Session' }, null);
        await store.oidc.upsert('Session', 'gone', { kind: 'Session' }, new Date(Date.now() - 1000));
        assert.ok(await store.oidc.find('Session', 'forever'));
        assert.equal(await store.oidc.find('Session', 'gone'), null);
        assert.equal(await store.oidc.purgeExpired(), 1);
        assert.ok(await store.oidc.find('Session', 'forever'));
      });

      it('finds by uid and by user code', async () => {
        await store.oidc.upsert('Session', 's1', { kind: 'Session', uid: 'uid-1' }, inAnHour());
        await store.oidc.upsert('DeviceCode', 'd1', { kind: 'DeviceCode', userCode: 'ABCD-EFGH' }, inAnHour());
        assert.equal((await store.oidc.findByUid('Session', 'uid-1'))?.kind, 'Session');
        assert.equal(await store.oidc.findByUid('Session', 'uid-2'), null);
        assert.equal((await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.kind, 'DeviceCode');
        assert.equal(await store.oidc.findByUserCode('DeviceCode', 'NOPE'), null);
      });

      it('consumes once, also when consumers race', async () => {
        await store.oidc.upsert('AuthorizationCode', 'c1', { kind: 'AuthorizationCode', grantId: 'g' }, inAnHour());
        const results = await Promise.all(Array.from({ length: 6 }, () => store.oidc.consume('AuthorizationCode', 'c1')));
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(typeof (await store.oidc.find('AuthorizationCode', 'c1'))?.consumed, 'number');
        assert.equal(await store.oidc.consume('AuthorizationCode', 'c1'), false);
      });

      it('ends the other sessions of an account, with their grants and tokens', async () => {
        await store.oidc.upsert('Session', 'mine', { kind: 'Session', accountId: 'u1', authorizations: { app: { grantId: 'g-mine' } } }, inAnHour());
        await store.oidc.upsert('Grant', 'g-mine', { kind: 'Grant', accountId: 'u1' }, inAnHour());
        await store.oidc.upsert('AccessToken', 't-mine', { kind: 'AccessToken', accountId: 'u1', grantId: 'g-mine' }, inAnHour());
        await store.oidc.upsert('Session', 'other', { kind: 'Session', accountId: 'u1', authorizations: { app: { grantId: 'g-other' } } }, inAnHour());
        await store.oidc.upsert('Grant', 'g-other', { kind: 'Grant', accountId: 'u1' }, inAnHour());
        await store.oidc.upsert('RefreshToken', 'r-other', { kind: 'RefreshToken', accountId: 'u1', grantId: 'g-other' }, inAnHour());
        await store.oidc.upsert('Session', 'someone-else', { kind: 'Session', accountId: 'u2' }, inAnHour());

        assert.equal(await store.oidc.endSessionsOf('u1', 'mine'), 1);
        for (const [model, id] of [['Session', 'mine'], ['Grant', 'g-mine'], ['AccessToken', 't-mine'], ['Session', 'someone-else']] as const) {
          assert.ok(await store.oidc.find(model, id), `${model} ${id} is kept`);
        }
        for (const [model, id] of [['Session', 'other'], ['Grant', 'g-other'], ['RefreshToken', 'r-other']] as const) {
          assert.equal(await store.oidc.find(model, id), null, `${model} ${id} is gone`);
        }
        assert.equal(await store.oidc.endSessionsOf('u1'), 1, 'without an exception, every session ends');
        assert.equal(await store.oidc.find('AccessToken', 't-mine'), null);
      });

      it('destroys one model and revokes everything of a grant', async () => {
        await store.oidc.upsert('AccessToken', 'a1', { kind: 'AccessToken', grantId: 'g1' }, inAnHour());
        await store.oidc.upsert('RefreshToken', 'r1', { kind: 'RefreshToken', grantId: 'g1' }, inAnHour());
        await store.oidc.upsert('AccessToken', 'a2', { kind: 'AccessToken', grantId: 'g2' }, inAnHour());
        await store.oidc.destroy('AccessToken', 'a2');
        assert.equal(await store.oidc.find('AccessToken', 'a2'), null);
        await store.oidc.revokeByGrantId('g1');
        assert.equal(await store.oidc.find('AccessToken', 'a1'), null);
        assert.equal(await store.oidc.find('RefreshToken', 'r1'), null);
      });
    });
  });
}
