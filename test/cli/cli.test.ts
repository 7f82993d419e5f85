import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';
import { cli as runInProcess, inStore } from '../support/cli.js';
import { getSiteTwoFactorMode } from '../../src/directory/site-settings.js';
import { tempDir } from '../support/twofold.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Cheap hashing: these tests are about the command line, not the hash. */
const FAST_HASH = { PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_ITERATIONS: '1' };
const cli = (dataDir: string, argv: string[], stdin = '') => runInProcess(dataDir, argv, { stdin, env: FAST_HASH });

describe('twofold command line', () => {
  it('creates organizations, users, members and clients, one line each', async () => {
    const dir = tempDir();
    const steps: Array<[string[], RegExp]> = [
      [['org', 'create', 'city', '--name', 'City of Springfield'], /^Created organization "city" \(City of Springfield\)\.$/],
      [['org', 'create', 'county', '--name=County'], /^Created organization "county"/],
      [['org', 'set', 'city', '--force-2fa', 'on'], /^Force Two-Factor Authentication is on for "city"\.$/],
      [['user', 'create', 'Ada@City.test', '--password', 'long enough pw', '--org', 'city:owner', '--org', 'county', '--site-admin'], /^Created user ada@city\.test \(site admin\) in city \(owner\), county \(member\)\.$/],
      [['user', 'create', 'bob@city.test', '--password', 'another password'], /^Created user bob@city\.test\.$/],
      [['member', 'add', 'county', 'bob@city.test', '--role', 'owner'], /^bob@city\.test is now an owner of "county"\.$/],
      [['client', 'create', 'portal', '--redirect-uri', 'https://portal.test/cb', '--redirect-uri', 'https://portal.test/cb2', '--secret', 'x'.repeat(40), '--first-party'], /^Created first-party confidential/],
      [['site', 'set', '--2fa', 'required'], /^Site-wide two-factor mode is now required\.$/],
    ];
    for (const [argv, expected] of steps) {
      const result = await cli(dir, argv);
      assert.equal(result.status, 0, `${argv.join(' ')}: ${result.err.join('\n')}`);
      assert.equal(result.out.length, 1);
      assert.match(result.out[0]!, expected);
    }
    await inStore(dir, async (store) => {
      const city = await store.organizations.findBySlug('city');
      assert.equal(city?.forceTwoFactor, true);
      const ada = await store.users.findByEmail('ada@city.test');
      assert.equal(ada?.siteAdmin, true);
      assert.match(ada!.passwordHash!, /^\$argon2id\$/);
      assert.equal((await store.memberships.listByUser(ada!.id)).length, 2);
      const bob = await store.users.findByEmail('bob@city.test');
      const county = await store.organizations.findBySlug('county');
      assert.equal((await store.memberships.find(county!.id, bob!.id))?.role, 'owner');
      const portal = await store.clients.find('portal');
      assert.deepEqual(portal?.redirectUris, ['https://portal.test/cb', 'https://portal.test/cb2']);
      assert.ok(portal?.sealedSecret && !portal.sealedSecret.includes('x'.repeat(40)), 'the client secret is sealed at rest');
      assert.equal(await getSiteTwoFactorMode(store.settings), 'required');
    });
  });

  it('federates an organization, prints the redirect URI, and creates its members without a password', async () => {
    const dir = tempDir();
    await cli(dir, ['org', 'create', 'county', '--name', 'County']);
    const federated = await cli(dir, ['org', 'federate', 'county', '--issuer', 'https://login.county.test', '--client-id', 'twofold', '--client-secret', 'upstream-secret', '--domain', 'county.test', '--domain', 'Staff.County.Test']);
    assert.equal(federated.status, 0, federated.err.join());
    assert.deepEqual(federated.out, ['"county" now signs in at its identity provider. Register this redirect URI there: http://localhost:3000/federation/county/callback']);
    const member = await cli(dir, ['user', 'create', 'clerk@county.test', '--org', 'county']);
    assert.equal(member.status, 0, member.err.join());
    await inStore(dir, async (store) => {
      const county = await store.organizations.findBySlug('county');
      assert.equal(county?.federation?.issuer, 'https://login.county.test');
      assert.deepEqual(county?.federation?.domains, ['county.test', 'staff.county.test']);
      assert.ok(!county?.federation?.sealedClientSecret.includes('upstream-secret'), 'the client secret is sealed');
      assert.equal((await store.users.findByEmail('clerk@county.test'))?.passwordHash, null);
    });
    const off = await cli(dir, ['org', 'federate', 'county', '--off']);
    assert.deepEqual(off.out, ['"county" members sign in with a password here again.']);
  });

  it('reads a password from standard input', async () => {
    const dir = tempDir();
    const result = await cli(dir, ['user', 'create', 'carol@x.test', '--password-stdin'], 'from standard input\n');
    assert.equal(result.status, 0, result.err.join());
    await inStore(dir, async (store) => assert.ok(await store.users.findByEmail('carol@x.test')));
  });

  it('fails with one clear line and a non-zero status, changing nothing', async () => {
    const dir = tempDir();
    await cli(dir, ['org', 'create', 'city', '--name', 'City']);
    await cli(dir, ['user', 'create', 'ada@x.test', '--password', 'long enough pw']);
    const failures: Array<[string[], RegExp, number]> = [
      [['org', 'create', 'city', '--name', 'Again'], /An organization with the slug "city" already exists\./, 1],
      [['org', 'create', 'Bad Slug', '--name', 'X'], /not a valid organization slug/, 1],
      [['org', 'create', 'town'], /--name is required\./, 2],
      [['org', 'set', 'nowhere', '--force-2fa', 'on'], /There is no organization with the slug "nowhere"\./, 1],
      [['org', 'set', 'city', '--force-2fa', 'yes'], /--force-2fa takes on or off/, 2],
      [['user', 'create', 'not-an-email', '--password', 'long enough pw'], /"not-an-email" is not a valid email address\./, 1],
      [['user', 'create', 'ada@x.test', '--password', 'long enough pw'], /A user with the email "ada@x\.test" already exists\./, 1],
      [['user', 'create', 'bob@x.test', '--password', 'long enough pw', '--org', 'nowhere'], /There is no organization with the slug "nowhere"\./, 1],
      [['user', 'create', 'bob@x.test', '--password', 'short'], /at least 8 characters/, 1],
      [['user', 'create', 'bob@x.test'], /A password is required unless the user belongs to an organization/, 1],
      [['user', 'create', 'bob@x.test', '--org', 'city'], /A password is required unless the user belongs to an organization/, 1],
      [['org', 'federate', 'city', '--issuer', 'http://idp.example.test', '--client-id', 'x', '--client-secret', 'y'], /The issuer must be an https URL\./, 1],
      [['org', 'federate', 'city', '--issuer', 'https://idp.example.test', '--client-id', 'x'], /--client-secret is required\./, 2],
      [['org', 'federate', 'city', '--issuer', 'https://idp.example.test', '--client-id', 'x', '--client-secret', 'y', '--domain', 'not a domain'], /"not a domain" is not an email domain\./, 1],
      [['org', 'federate', 'nowhere', '--off'], /There is no organization with the slug "nowhere"\./, 1],
      [['user', 'create', 'bob@x.test', '--password', 'long enough pw', '--org', 'city:admin'], /A role is owner or member/, 2],
      [['member', 'add', 'city', 'nobody@x.test'], /There is no user with the email "nobody@x\.test"\./, 1],
      [['member', 'add', 'city'], /Missing <email>\./, 2],
      [['client', 'create', 'app'], /--redirect-uri is required\./, 2],
      [['client', 'create', 'app', '--redirect-uri', 'not a url'], /"not a url" is not a valid URL\./, 1],
      [['client', 'create', 'app', '--redirect-uri', 'ftp://x.test/cb'], /must be an http or https URL/, 1],
      [['client', 'create', 'app', '--redirect-uri', 'https://x.test/cb', '--secret', 'short'], /at least 32 characters/, 1],
      [['client', 'create', 'bad id!', '--redirect-uri', 'https://x.test/cb'], /not a valid client id/, 1],
      [['site', 'set', '--2fa', 'sometimes'], /"sometimes" is not a two-factor mode/, 1],
      [['site', 'set', '--2fa', 'off', '--2fa', 'on'], /--2fa can be given only once\./, 2],
      [['org', 'create', 'x', '--name', 'X', '--colour', 'red'], /Unknown option --colour\./, 2],
      [['frobnicate', 'now'], /unknown command "frobnicate now"/, 2],
    ];
    for (const [argv, expected, status] of failures) {
      const result = await cli(dir, argv);
      assert.equal(result.status, status, `${argv.join(' ')} → ${result.err.join(' | ')}`);
      assert.equal(result.out.length, 0, argv.join(' '));
      assert.equal(result.err.length, 1, argv.join(' '));
      assert.match(result.err[0]!, /^twofold: /);
      assert.match(result.err[0]!, expected, argv.join(' '));
    }
    await inStore(dir, async (store) => {
      assert.equal(await store.users.count(), 1, 'no failed command created a user');
      assert.deepEqual((await store.organizations.list()).map((org) => org.slug), ['city']);
      assert.deepEqual(await store.clients.list(), []);
    });
  });

  it('turns off a user\'s 2FA as the operator\'s break-glass: audited, sessions ended, e-mailed', async () => {
    const dir = tempDir();
    await cli(dir, ['user', 'create', 'root@x.test', '--password', 'long enough pw', '--site-admin']);
    const userId = await inStore(dir, async (store) => {
      const user = await store.users.findByEmail('root@x.test');
      await store.secondFactors.enable({ userId: user!.id, sealedSecret: 'sealed', lastTimeStep: 1, recoveryKeyId: 'k', recoveryCodeHashes: ['h'] });
      await store.oidc.upsert('Session', 's1', { kind: 'Session', accountId: user!.id }, new Date(Date.now() + 60_000));
      return user!.id;
    });
    const noReason = await cli(dir, ['user', 'disable-2fa', 'root@x.test']);
    assert.equal(noReason.status, 2);
    const done = await cli(dir, ['user', 'disable-2fa', 'root@x.test', '--reason', 'lost phone, ticket 42']);
    assert.equal(done.status, 0, done.err.join());
    assert.deepEqual(done.out, ['Two-factor authentication is off for root@x.test; they were signed out everywhere and e-mailed.']);
    await inStore(dir, async (store) => {
      assert.equal(await store.secondFactors.find(userId), null);
      assert.equal(await store.oidc.find('Session', 's1'), null, 'signed out');
      const [event] = (await store.audit.list(null, { limit: 1, offset: 0 })).events;
      assert.equal(event?.action, 'two_factor.reset_by_admin');
      assert.equal(event?.actorId, null, 'the operator');
      assert.equal(event?.details.reason, 'lost phone, ticket 42');
    });
    const outbox = fs.readdirSync(path.join(dir, 'outbox'));
    assert.equal(outbox.length, 1);
    const eml = fs.readFileSync(path.join(dir, 'outbox', outbox[0]!), 'utf8');
    assert.match(eml, /^Subject: Two-factor authentication was turned off for your account$/m);
    assert.match(eml, /The site operator turned off /);
    const again = await cli(dir, ['user', 'disable-2fa', 'root@x.test', '--reason', 'again']);
    assert.equal(again.status, 1);
    assert.deepEqual(again.err, ['twofold: root@x.test has not set up two-factor authentication.']);
  });

  it('names the setting to fix when the configuration is wrong', async () => {
    const result = await runCli(['org', 'create', 'x', '--name', 'X'], {
      env: { NODE_ENV: 'production', ISSUER: 'https://id.example.test' },
      cwd: tempDir(),
      out: () => undefined,
      err: (line) => assert.match(line, /^twofold: configuration error: ENCRYPTION_KEY: must be set in production/),
      readStdin: async () => '',
    });
    assert.equal(result, 1);
  });

  it('runs as `npx twofold` from the repository root', () => {
    const dir = tempDir();
    const run = (...args: string[]) => spawnSync('npx', ['--no-install', 'twofold', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dir, MONGODB_URI: '' }, encoding: 'utf8' });
    const created = run('org', 'create', 'city', '--name', 'City');
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.stdout, 'Created organization "city" (City).\n');
    const duplicate = run('org', 'create', 'city', '--name', 'City');
    assert.equal(duplicate.status, 1);
    assert.equal(duplicate.stdout, '');
    assert.deepEqual(duplicate.stderr.split('\n').filter((line) => line.startsWith('twofold:')), ['twofold: An organization with the slug "city" already exists.']);
  });
});
