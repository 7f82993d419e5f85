import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/main.js';
import { cli as runInProcess, inStore } from '../support/cli.js';
import { readSiteTwoFactorMode } from '../../src/application/site.js';
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
      expect([argv, result]).toMatchObject([argv, { status: 0, out: [expect.stringMatching(expected)] }]);
    }
    await inStore(dir, async (store) => {
      const city = await store.organizations.findBySlug('city');
      expect(city?.forceTwoFactor).toBe(true);
      const ada = await store.users.findByEmail('ada@city.test');
      expect(ada?.siteAdmin).toBe(true);
      expect(ada!.passwordHash!).toMatch(/^\$argon2id\$/);
      expect(await store.memberships.listByUser(ada!.id)).toHaveLength(2);
      const bob = await store.users.findByEmail('bob@city.test');
      const county = await store.organizations.findBySlug('county');
      expect((await store.memberships.find(county!.id, bob!.id))?.role).toBe('owner');
      const portal = await store.clients.find('portal');
      expect(portal?.redirectUris).toStrictEqual(['https://portal.test/cb', 'https://portal.test/cb2']);
      // The client secret is sealed at rest.
      expect(portal?.sealedSecret).toBeTruthy();
      expect(portal?.sealedSecret).not.toContain('x'.repeat(40));
      expect(await readSiteTwoFactorMode(store.settings)).toBe('required');
    });
  });

  it('sets the rollout of enforcement (grace period, remembered browsers, owners only) through the same rules, refusing bad values in one line', async () => {
    const dir = tempDir();
    await cli(dir, ['org', 'create', 'city', '--name', 'City']);
    const set = await cli(dir, ['org', 'set', 'city', '--grace-days', '14', '--remember-days', '7', '--apply-to', 'owners', '--force-2fa', 'on']);
    expect(set).toMatchObject({ status: 0, out: ['Force Two-Factor Authentication is on for "city".\n"city": grace period 14 days, browsers remembered for 7 days, applies to owners only, any second factor, first set-up confirmed by e-mail.'] });
    for (const argv of [['--grace-days', '91'], ['--grace-days', '-1'], ['--remember-days', 'abc'], ['--apply-to', 'everyone'], ['--grace-days', '3', '--force-2fa', 'maybe'], []]) {
      const refused = await cli(dir, ['org', 'set', 'city', ...argv]);
      expect([argv, refused.status !== 0, refused.err.length]).toStrictEqual([argv, true, 1]);
      expect(refused.err[0]).not.toMatch(/\n|at .*\.ts/);
    }
    await inStore(dir, async (store) => {
      expect(await store.organizations.findBySlug('city')).toMatchObject({ forceTwoFactor: true, gracePeriodDays: 14, rememberBrowserDays: 7, applyTo: 'owners' });
      const [changed] = (await store.audit.list((await store.organizations.findBySlug('city'))!.id, { limit: 10, offset: 0 })).events.filter((event) => event.action === 'policy.rollout_changed');
      expect(changed?.details).toStrictEqual({ gracePeriodDaysBefore: 0, gracePeriodDaysAfter: 14, rememberBrowserDaysBefore: 0, rememberBrowserDaysAfter: 7, applyToBefore: 'all', applyToAfter: 'owners', via: 'command line' });
    });
  });

  it('federates an organization, prints the redirect URI, and creates its members without a password', async () => {
    const dir = tempDir();
    await cli(dir, ['org', 'create', 'county', '--name', 'County']);
    const federated = await cli(dir, ['org', 'federate', 'county', '--issuer', 'https://login.county.test', '--client-id', 'twofold', '--client-secret', 'upstream-secret', '--unchecked', '--domain', 'county.test', '--domain', 'Staff.County.Test']);
    expect(federated.status).toBe(0);
    expect(federated.out).toStrictEqual(['"county" now signs in at its identity provider. Register this redirect URI there: http://localhost:3000/federation/county/callback']);
    const member = await cli(dir, ['user', 'create', 'clerk@county.test', '--org', 'county']);
    expect(member.status).toBe(0);
    await inStore(dir, async (store) => {
      const county = await store.organizations.findBySlug('county');
      expect(county?.federation?.issuer).toBe('https://login.county.test');
      expect(county?.federation?.domains).toStrictEqual(['county.test', 'staff.county.test']);
      // The client secret is sealed.
      expect(county?.federation?.sealedClientSecret).not.toContain('upstream-secret');
      expect((await store.users.findByEmail('clerk@county.test'))?.passwordHash).toBeNull();
    });
    const off = await cli(dir, ['org', 'federate', 'county', '--off']);
    expect(off.out).toStrictEqual(['"county" no longer signs in at an identity provider; the accounts it managed need a password here (twofold user federate <email> --off e-mails a link to set one).']);
  });

  it('hands a member\'s account to the organization\'s identity provider and back, trusts it, and names the accounts a domain leaves alone', async () => {
    const dir = tempDir();
    await cli(dir, ['org', 'create', 'county', '--name', 'County']);
    await cli(dir, ['user', 'create', 'ada@county.test', '--password', 'a long password', '--org', 'county']);
    await cli(dir, ['user', 'create', 'outsider@county.test', '--password', 'a long password']);
    await cli(dir, ['user', 'create', 'root@site.test', '--password', 'a long password', '--site-admin', '--org', 'county']);
    const federated = await cli(dir, ['org', 'federate', 'county', '--issuer', 'https://login.county.test', '--client-id', 'twofold', '--client-secret', 'upstream-secret', '--unchecked', '--domain', 'county.test', '--trust-2fa', 'on']);
    expect(federated.out).toStrictEqual(['"county" now signs in at its identity provider. 1 existing account outside it at that domain keeps signing in here. Register this redirect URI there: http://localhost:3000/federation/county/callback']);

    const handed = await cli(dir, ['user', 'federate', 'ada@county.test', '--org', 'county']);
    expect([handed.status, handed.out]).toStrictEqual([0, ['ada@county.test now signs in at County\'s identity provider.']]);
    const refused = await cli(dir, ['user', 'federate', 'root@site.test', '--org', 'county']);
    expect([refused.status, refused.err]).toStrictEqual([1, ['twofold: root@site.test is a site admin; a site admin\'s account always signs in here.']]);
    const notMember = await cli(dir, ['user', 'federate', 'outsider@county.test', '--org', 'county']);
    expect([notMember.status, notMember.err]).toStrictEqual([1, ['twofold: outsider@county.test is not a member of County.']]);
    await inStore(dir, async (store) => {
      const county = (await store.organizations.findBySlug('county'))!;
      expect(county.federation?.trustedForTwoFactor).toBe(true);
      const ada = (await store.users.findByEmail('ada@county.test'))!;
      expect([ada.managedBy, ada.passwordHash]).toStrictEqual([county.id, null]);
      expect((await store.users.findByEmail('outsider@county.test'))?.managedBy).toBeNull();
      const actions = (await store.audit.list(county.id, { limit: 50, offset: 0 })).events.map((event) => event.action);
      expect(actions).toEqual(expect.arrayContaining(['federation.changed', 'federation.domains_changed', 'federation.trust_changed', 'account.managed_by_changed']));
    });

    const back = await cli(dir, ['user', 'federate', 'ada@county.test', '--off']);
    expect(back.out).toStrictEqual(['ada@county.test signs in with a password here again; they were e-mailed a link to set one.']);
    await inStore(dir, async (store) => expect((await store.users.findByEmail('ada@county.test'))?.managedBy).toBeNull());
  });

  it('reads a password from standard input', async () => {
    const dir = tempDir();
    const result = await cli(dir, ['user', 'create', 'carol@x.test', '--password-stdin'], 'from standard input\n');
    expect(result.status).toBe(0);
    await inStore(dir, async (store) => expect(await store.users.findByEmail('carol@x.test')).toBeTruthy());
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
      [['org', 'federate', 'city', '--issuer', 'https://idp.example.test', '--client-id', 'x', '--client-secret', 'y'], /Nothing was saved: https:\/\/idp\.example\.test did not answer as an OpenID Connect provider \(.+\)\. Check the issuer URL/, 1],
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
      expect([argv, result]).toMatchObject([argv, { status, out: [], err: [expect.stringMatching(expected)] }]);
      expect(result.err[0]).toMatch(/^twofold: /);
    }
    await inStore(dir, async (store) => {
      // No failed command created a user.
      expect(await store.users.count()).toBe(1);
      expect((await store.organizations.list()).map((org) => org.slug)).toStrictEqual(['city']);
      expect(await store.clients.list()).toStrictEqual([]);
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
    expect(noReason.status).toBe(2);
    const done = await cli(dir, ['user', 'disable-2fa', 'root@x.test', '--reason', 'lost phone, ticket 42']);
    expect(done.status).toBe(0);
    expect(done.out).toStrictEqual(['Two-factor authentication is off for root@x.test; they were signed out everywhere and e-mailed.']);
    await inStore(dir, async (store) => {
      expect(await store.secondFactors.find(userId)).toBeNull();
      // Signed out.
      expect(await store.oidc.find('Session', 's1')).toBeNull();
      const [event] = (await store.audit.list(null, { limit: 1, offset: 0 })).events;
      expect(event?.action).toBe('two_factor.reset_by_admin');
      // The operator.
      expect(event?.actorId).toBeNull();
      expect(event?.details.reason).toBe('lost phone, ticket 42');
    });
    const outbox = fs.readdirSync(path.join(dir, 'outbox'));
    expect(outbox).toHaveLength(1);
    const eml = fs.readFileSync(path.join(dir, 'outbox', outbox[0]!), 'utf8');
    expect(eml).toMatch(/^Subject: Two-factor authentication was turned off for your account$/m);
    expect(eml).toMatch(/The site operator turned off /);
    const again = await cli(dir, ['user', 'disable-2fa', 'root@x.test', '--reason', 'again']);
    expect(again.status).toBe(1);
    expect(again.err).toStrictEqual(['twofold: root@x.test has not set up two-factor authentication.']);
  });

  it('names the setting to fix when the configuration is wrong', async () => {
    const result = await runCli(['org', 'create', 'x', '--name', 'X'], {
      env: { NODE_ENV: 'production', ISSUER: 'https://id.example.test' },
      cwd: tempDir(),
      out: () => undefined,
      err: (line) => expect(line).toMatch(/^twofold: configuration error: ENCRYPTION_KEY: must be set in production/),
      readStdin: async () => '',
    });
    expect(result).toBe(1);
  });

  it('runs as `npx twofold` from the repository root', () => {
    const dir = tempDir();
    const run = (...args: string[]) => spawnSync('npx', ['--no-install', 'twofold', ...args], { cwd: ROOT, env: { ...process.env, DATA_DIR: dir, MONGODB_URI: '' }, encoding: 'utf8' });
    const created = run('org', 'create', 'city', '--name', 'City');
    expect(created.status).toBe(0);
    expect(created.stdout).toBe('Created organization "city" (City).\n');
    const duplicate = run('org', 'create', 'city', '--name', 'City');
    expect(duplicate.status).toBe(1);
    expect(duplicate.stdout).toBe('');
    expect(duplicate.stderr.split('\n').filter((line) => line.startsWith('twofold:'))).toStrictEqual(['twofold: An organization with the slug "city" already exists.']);
  });
});
