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
