import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { SecurityKeyFactor, relyingPartyOf } from '../../src/factors/webauthn/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store, User } from '../../src/store/types.js';
import { SoftwareKey } from '../support/software-key.js';
import { freePort, startTestInstance, tempDir, type TestInstance } from '../support/twofold.js';

const ORIGIN = 'http://localhost:4123';
const RP_ID = 'localhost';
const CODES = { recoveryKeyId: 'k', recoveryCodeHashes: ['h'] };

/** Security-key verification edge cases (docs/rules.md, "Security keys and passkeys"), with real signatures from a key made in Node. */
describe('security key verification', () => {
  let store: Store;
  let factor: SecurityKeyFactor;
  let user: User;

  beforeEach(async () => {
    store = openSqliteStore(path.join(tempDir(), 'twofold.db'));
    factor = new SecurityKeyFactor(store, relyingPartyOf(`${ORIGIN}/`, 'Twofold'), Buffer.alloc(32, 7));
    user = await store.users.create({ email: 'ada@x.test', name: 'Ada', passwordHash: null, siteAdmin: false });
  });
  afterEach(() => store.close());

  async function enroll(key: SoftwareKey, owner: User = user): Promise<void> {
    const options = await factor.registrationOptions(`register-${owner.id}`, owner, []);
    const registration = await factor.register(`register-${owner.id}`, owner, JSON.stringify(key.register({ challenge: options.challenge })), 'My key');
    if (!registration.ok) throw new Error(`registration refused: ${registration.reason}`);
    await store.securityKeys.add(registration.key, CODES);
  }

  /** A passkey made for `owner` as a browser would: the options' user id goes with it, and comes back as its user handle. */
  async function enrollPasskey(key: SoftwareKey, owner: User = user): Promise<void> {
    const options = await factor.registrationOptions(`register-${owner.id}`, owner, []);
    const registration = await factor.register(`register-${owner.id}`, owner, JSON.stringify(key.register({ challenge: options.challenge, userId: options.user.id })), 'Passkey');
    if (!registration.ok) throw new Error(`registration refused: ${registration.reason}`);
    await store.securityKeys.add(registration.key, CODES);
  }

  describe('signing in with a passkey alone', () => {
    it('offers no account and prefers user verification, with a challenge that is the sign-in\'s own', async () => {
      const options = await factor.passkeyOptions('sign-in-1');
      expect([options.allowCredentials, options.userVerification, options.rpId]).toStrictEqual([[], 'preferred', RP_ID]);
      expect((await factor.passkeyOptions('sign-in-1')).challenge).toBe(options.challenge);
      expect((await factor.passkeyOptions('sign-in-2')).challenge).not.toBe(options.challenge);
      // Nothing is stored for showing the options.
      expect(await store.attempts.peek('passkey-challenge:sign-in-1', new Date())).toBeNull();
    });

    it('names the account and says whether the device verified the person', async () => {
      const passkey = new SoftwareKey(ORIGIN, RP_ID, true);
      await enrollPasskey(passkey);
      const verified = passkey.sign({ challenge: (await factor.passkeyOptions('a')).challenge });
      expect(await factor.verifyPasskey('a', JSON.stringify(verified))).toStrictEqual({ ok: true, userId: user.id, amr: 'swk', userVerified: true });
      passkey.userVerifies = false;
      const unverified = passkey.sign({ challenge: (await factor.passkeyOptions('b')).challenge });
      expect(await factor.verifyPasskey('b', JSON.stringify(unverified))).toStrictEqual({ ok: true, userId: user.id, amr: 'swk', userVerified: false });
    });

    it('spends the challenge with the first answer, right or wrong', async () => {
      const passkey = new SoftwareKey(ORIGIN, RP_ID);
      await enrollPasskey(passkey);
      const { challenge: c } = await factor.passkeyOptions('once');
      expect(await factor.verifyPasskey('once', '{"not":"an answer"}')).toStrictEqual({ ok: false });
      expect(await factor.verifyPasskey('once', JSON.stringify(passkey.sign({ challenge: c })))).toStrictEqual({ ok: false });
      const { challenge: fresh } = await factor.passkeyOptions('twice');
      const answer = JSON.stringify(passkey.sign({ challenge: fresh }));
      expect((await factor.verifyPasskey('twice', answer)).ok).toBe(true);
      expect((await factor.verifyPasskey('twice', answer)).ok).toBe(false);
    });

    it('refuses an answer to another sign-in\'s challenge, one that names another account, and one from a key saved nowhere', async () => {
      const passkey = new SoftwareKey(ORIGIN, RP_ID);
      await enrollPasskey(passkey);
      const other = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });
      expect(await factor.verifyPasskey('mine', JSON.stringify(passkey.sign({ challenge: (await factor.passkeyOptions('theirs')).challenge })))).toStrictEqual({ ok: false, userId: user.id });
      passkey.userHandle = Buffer.from(other.id).toString('base64url');
      expect(await factor.verifyPasskey('named', JSON.stringify(passkey.sign({ challenge: (await factor.passkeyOptions('named')).challenge })))).toStrictEqual({ ok: false });
      const stranger = new SoftwareKey(ORIGIN, RP_ID);
      stranger.userHandle = Buffer.from(user.id).toString('base64url');
      expect(await factor.verifyPasskey('stranger', JSON.stringify(stranger.sign({ challenge: (await factor.passkeyOptions('stranger')).challenge })))).toStrictEqual({ ok: false });
      expect(await factor.ownerOf(JSON.stringify(stranger.sign({ challenge: 'x' })))).toBeNull();
    });
  });

  async function challenge(hold = 'sign-in', owner: User = user): Promise<string> {
    return (await factor.authenticationOptions(hold, owner, await store.securityKeys.listByUser(owner.id))).challenge;
  }

  it('registers a key for the issuer and accepts its signed answer, as a hardware key', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    const [saved] = await store.securityKeys.listByUser(user.id);
    expect([saved?.credentialId, saved?.name, saved?.synced, saved?.counter]).toStrictEqual([key.id, 'My key', false, 0]);
    const answer = key.sign({ challenge: await challenge() }, 7);
    expect(await factor.verify(user.id, JSON.stringify(answer), 'sign-in')).toStrictEqual({ kind: 'accepted', amr: 'hwk' });
    const used = await store.securityKeys.find(key.id);
    expect(used?.counter).toBe(7);
    expect(used?.lastUsedAt).toBeInstanceOf(Date);
  });

  it('calls a synced passkey a software key (swk)', async () => {
    const passkey = new SoftwareKey(ORIGIN, RP_ID, true);
    await enroll(passkey);
    expect((await store.securityKeys.find(passkey.id))?.synced).toBe(true);
    expect(await factor.verify(user.id, JSON.stringify(passkey.sign({ challenge: await challenge() })), 'sign-in')).toStrictEqual({ kind: 'accepted', amr: 'swk' });
  });

  it('refuses an answer made for another origin (a phishing page), at registration and at sign-in', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    const options = await factor.registrationOptions('phished', user, []);
    const phished = key.register({ challenge: options.challenge, origin: 'https://login.examp1e.test' });
    expect(await factor.register('phished', user, JSON.stringify(phished), 'Key')).toStrictEqual({ ok: false, reason: 'invalid' });
    await enroll(key);
    const answer = key.sign({ challenge: await challenge(), origin: 'http://localhost:9999' });
    expect(await factor.verify(user.id, JSON.stringify(answer), 'sign-in')).toStrictEqual({ kind: 'rejected' });
  });

  it('refuses an answer signed for another relying-party id', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    const answer = key.sign({ challenge: await challenge(), rpId: 'evil.test' });
    expect(await factor.verify(user.id, JSON.stringify(answer), 'sign-in')).toStrictEqual({ kind: 'rejected' });
    // The same key, right relying party, still works: nothing was recorded by the refusal.
    expect((await factor.verify(user.id, JSON.stringify(key.sign({ challenge: await challenge() })), 'sign-in')).kind).toBe('accepted');
  });

  it('refuses a replayed answer: the challenge is spent by its first use, and a new challenge does not take an old answer', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    const answer = JSON.stringify(key.sign({ challenge: await challenge() }));
    expect((await factor.verify(user.id, answer, 'sign-in')).kind).toBe('accepted');
    expect(await factor.verify(user.id, answer, 'sign-in')).toStrictEqual({ kind: 'rejected' });
    await challenge();
    expect(await factor.verify(user.id, answer, 'sign-in')).toStrictEqual({ kind: 'rejected' });
  });

  it('takes an answer only in the sign-in whose challenge it signed, and only for that user', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    const other = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });
    const answer = JSON.stringify(key.sign({ challenge: await challenge('sign-in-a') }));
    await challenge('sign-in-b');
    expect(await factor.verify(user.id, answer, 'sign-in-b')).toStrictEqual({ kind: 'rejected' });
    expect(await factor.verify(other.id, answer, 'sign-in-a')).toStrictEqual({ kind: 'rejected' });
  });

  it('refuses a counter that goes backwards, saying so, and keeps the stored one', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    expect((await factor.verify(user.id, JSON.stringify(key.sign({ challenge: await challenge() }, 5)), 'sign-in')).kind).toBe('accepted');
    const cloned = key.sign({ challenge: await challenge() }, 3);
    expect(await factor.verify(user.id, JSON.stringify(cloned), 'sign-in')).toStrictEqual({ kind: 'rejected', regressed: { keyName: 'My key', counter: 3, stored: 5 } });
    const equal = key.sign({ challenge: await challenge() }, 5);
    expect((await factor.verify(user.id, JSON.stringify(equal), 'sign-in')).kind).toBe('rejected');
    expect((await store.securityKeys.find(key.id))?.counter).toBe(5);
  });

  it('refuses an unknown credential, and a key of another user', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    const stranger = new SoftwareKey(ORIGIN, RP_ID);
    expect(await factor.verify(user.id, JSON.stringify(stranger.sign({ challenge: await challenge() })), 'sign-in')).toStrictEqual({ kind: 'rejected' });
    const other = await store.users.create({ email: 'bob@x.test', name: 'Bob', passwordHash: null, siteAdmin: false });
    const othersKey = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(othersKey, other);
    expect(await factor.verify(user.id, JSON.stringify(othersKey.sign({ challenge: await challenge() })), 'sign-in')).toStrictEqual({ kind: 'rejected' });
  });

  it('refuses registering the same credential twice', async () => {
    const key = new SoftwareKey(ORIGIN, RP_ID);
    await enroll(key);
    await expect(enroll(key)).rejects.toHaveProperty('field', 'credential id');
  });

  it('tells a missing or mangled answer apart without counting it', () => {
    expect(factor.parse('')).toStrictEqual({ ok: false, problem: expect.stringContaining('did not answer') });
    expect(factor.parse('{"id": 1}').ok).toBe(false);
    expect(factor.parse('not json').ok).toBe(false);
    expect(factor.parse(JSON.stringify(new SoftwareKey(ORIGIN, RP_ID).sign({ challenge: 'x' }))).ok).toBe(true);
  });
});

describe('security keys in the second-factor service', () => {
  let instance: TestInstance;
  let key: SoftwareKey;
  let user: User;

  beforeAll(async () => {
    const port = await freePort();
    instance = await startTestInstance({ PORT: String(port), ISSUER: `http://localhost:${port}` });
    key = new SoftwareKey(instance.url, 'localhost');
    user = await instance.store.users.create({ email: 'kim@x.test', name: 'Kim', passwordHash: null, siteAdmin: false });
  });
  afterAll(() => instance.close());

  it('makes a first key the second factor, with ten recovery codes shown once', async () => {
    const secondFactors = instance.composition.application.secondFactors;
    const options = await secondFactors.keyRegistrationOptions('hold-1', user);
    // The mailbox was just proven (as after an e-mailed link): this test is not about the e-mailed code.
    const added = await secondFactors.addSecurityKey('hold-1', user, JSON.stringify(key.register({ challenge: options.challenge })), '  Blue   key ', '192.0.2.1', { mailboxProvenAt: new Date() });
    expect(added).toStrictEqual({ ok: true, first: true, amr: 'hwk' });
    const codes = await secondFactors.freshRecoveryCodes('hold-1', user);
    expect(codes).toHaveLength(10);
    const facts = await secondFactors.facts(user);
    expect([facts.enrolled, facts.hasApp, facts.securityKeys.map((saved) => saved.name)]).toStrictEqual([true, false, ['Blue key']]);
    // A recovery code works for a user who has only a key.
    expect(await secondFactors.check(user, 'recovery-code', codes![0]!, 'sign-in-r', '192.0.2.1')).toMatchObject({ ok: true, remainingRecoveryCodes: 9 });
  });

  it('audits a counter that went backwards, and refuses the sign-in', async () => {
    const secondFactors = instance.composition.application.secondFactors;
    const first = await secondFactors.keyAuthenticationOptions('sign-in-1', user);
    expect(await secondFactors.check(user, 'security-key', JSON.stringify(key.sign({ challenge: first!.challenge }, 10)), 'sign-in-1', '192.0.2.1')).toStrictEqual({ ok: true, amr: 'hwk' });
    const second = await secondFactors.keyAuthenticationOptions('sign-in-2', user);
    const refused = await secondFactors.check(user, 'security-key', JSON.stringify(key.sign({ challenge: second!.challenge }, 4)), 'sign-in-2', '192.0.2.7');
    expect(refused).toMatchObject({ ok: false, status: 400 });
    const { events } = await instance.store.audit.list(null, { limit: 20, offset: 0 });
    const regressed = events.find((event) => event.action === 'security_key.counter_regressed');
    expect([regressed?.targetEmail, regressed?.ip, regressed?.details]).toStrictEqual(['kim@x.test', '192.0.2.7', { name: 'Blue key', counter: 4, stored: 10 }]);
  });
});
