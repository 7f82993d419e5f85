import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cli as runInProcess, inStore } from '../support/cli.js';
import { startTestInstance, tempDir } from '../support/twofold.js';

/** Cheap hashing: these tests are about the command line, not the hash. */
const FAST_HASH = { PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_ITERATIONS: '1' };
const cli = (dataDir: string, argv: string[], env: Record<string, string> = {}) => runInProcess(dataDir, argv, { env: { ...FAST_HASH, ...env } });
const PRODUCTION = { NODE_ENV: 'production', ISSUER: 'https://id.example.test', ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64') };

/** Whether Twofold's token endpoint takes this client id and secret: a made-up code is then invalid_grant, not invalid_client. */
async function authenticates(issuer: string, clientId: string, secret: string): Promise<boolean> {
  const response = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'made-up', redirect_uri: 'https://portal.test/cb', code_verifier: 'x'.repeat(43) }),
  });
  const { error } = await response.json() as { error: string };
  if (error !== 'invalid_grant' && error !== 'invalid_client') throw new Error(`unexpected ${error}`);
  return error === 'invalid_grant';
}

describe('twofold command line: the console\'s commands, one line each', () => {
  it('creates an organization with a first owner, renames it and deletes it with the slug typed again', async () => {
    const dir = tempDir();
    expect((await cli(dir, ['user', 'create', 'ada@city.test', '--password', 'long enough pw'])).status).toBe(0);
    const steps: Array<[string[], string]> = [
      [['org', 'create', 'city', '--name', 'City', '--owner', 'ada@city.test'], 'Created organization "city" (City). ada@city.test is its owner.'],
      [['org', 'create', 'parks', '--name', 'Parks', '--owner', 'Paula@Parks.test'], 'Created organization "parks" (Parks). paula@parks.test is its owner and was e-mailed a link to set a password.'],
      [['org', 'rename', 'city', '--name', 'City of Springfield'], '"city" is now called City of Springfield.'],
      [['org', 'delete', 'city', '--confirm', 'city'], 'Deleted organization "city" (City of Springfield); its 1 member kept their accounts.'],
    ];
    for (const [argv, line] of steps) expect([argv, await cli(dir, argv)]).toStrictEqual([argv, { status: 0, out: [line], err: [] }]);
    await inStore(dir, async (store) => {
      expect(await store.organizations.findBySlug('city')).toBeNull();
      expect(await store.users.findByEmail('ada@city.test')).not.toBeNull();
      const parks = (await store.organizations.findBySlug('parks'))!;
      const paula = (await store.users.findByEmail('paula@parks.test'))!;
      expect((await store.memberships.find(parks.id, paula.id))?.role).toBe('owner');
      const actions = (await store.audit.list(null, { limit: 20, offset: 0 })).events.map((event) => [event.action, event.details.via]);
      expect(actions).toStrictEqual(expect.arrayContaining([['organization.created', 'command line'], ['organization.renamed', 'command line'], ['organization.deleted', 'command line']]));
    });
    const mails = fs.readdirSync(path.join(dir, 'outbox')).map((file) => fs.readFileSync(path.join(dir, 'outbox', file), 'utf8'));
    expect(mails.some((mail) => /^To: paula@parks\.test$/m.test(mail) && /\/invitation\//.test(mail))).toBe(true);
  });

  it('lists, rotates and deletes clients; the printed secret is the one the token endpoint takes', async () => {
    const dir = tempDir();
    expect(await cli(dir, ['client', 'list'])).toStrictEqual({ status: 0, out: ['No applications are registered.'], err: [] });
    await cli(dir, ['client', 'create', 'portal', '--name', 'Permit portal', '--redirect-uri', 'https://portal.test/cb', '--secret', 'p'.repeat(40), '--first-party']);
    await cli(dir, ['client', 'create', 'spa', '--redirect-uri', 'http://localhost:5173/cb']);
    expect(await cli(dir, ['client', 'list'])).toStrictEqual({
      status: 0,
      out: ['portal\tconfidential\tfirst-party\t"Permit portal"\thttps://portal.test/cb\nspa\tpublic\tthird-party\t"spa"\thttp://localhost:5173/cb'],
      err: [],
    });

    const rotated = await cli(dir, ['client', 'rotate-secret', 'portal', '--grace-hours', '2']);
    expect(rotated.status).toBe(0);
    const [, until, secret] = /^New client secret for "portal" \(shown only now; the old one works until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\): ([A-Za-z0-9_-]{43})$/.exec(rotated.out[0]!)!;
    expect(Date.parse(`${until!.replace(' ', 'T')}:00Z`) - Date.now()).toBeWithinRange(2 * 3_600_000 - 120_000, 2 * 3_600_000);

    const twofold = await startTestInstance({ DATA_DIR: dir, ...FAST_HASH });
    try {
      expect(await authenticates(twofold.url, 'portal', secret!)).toBe(true);
      expect(await authenticates(twofold.url, 'portal', 'p'.repeat(40))).toBe(true);
      expect(await authenticates(twofold.url, 'portal', 'q'.repeat(40))).toBe(false);
      const again = await cli(dir, ['client', 'rotate-secret', 'portal']);
      const newest = /: ([A-Za-z0-9_-]{43})$/.exec(again.out[0]!)![1]!;
      expect(again.out[0]).toMatch(/the old one no longer works\)/);
      expect(await authenticates(twofold.url, 'portal', newest)).toBe(true);
      expect(await authenticates(twofold.url, 'portal', secret!)).toBe(false);
      // The secret from before that one had its own grace period, which the new rotation ended.
      expect(await authenticates(twofold.url, 'portal', 'p'.repeat(40))).toBe(false);
      await twofold.store.oidc.upsert('RefreshToken', 'r1', { kind: 'RefreshToken', clientId: 'portal', accountId: 'u', grantId: 'g' }, new Date(Date.now() + 60_000));
    } finally {
      await twofold.close();
    }

    expect(await cli(dir, ['client', 'delete', 'portal'])).toStrictEqual({ status: 0, out: ['Deleted client "portal"; its grants, codes and tokens were revoked (1 in all).'], err: [] });
    await inStore(dir, async (store) => {
      expect(await store.clients.find('portal')).toBeNull();
      expect(await store.oidc.find('RefreshToken', 'r1')).toBeNull();
      const events = (await store.audit.list(null, { limit: 20, offset: 0 })).events;
      expect(events.map((event) => event.action)).toStrictEqual(expect.arrayContaining(['client.registered', 'client.secret_rotated', 'client.deleted']));
      expect(JSON.stringify(events)).not.toContain(secret);
    });
  });

  it('says what is wrong in one line and changes nothing', async () => {
    const dir = tempDir();
    await cli(dir, ['org', 'create', 'city', '--name', 'City']);
    await cli(dir, ['client', 'create', 'spa', '--redirect-uri', 'https://spa.test/cb']);
    const failures: Array<[string[], RegExp, number, Record<string, string>?]> = [
      [['org', 'delete', 'city'], /^twofold: --confirm is required\.$/, 2],
      [['org', 'delete', 'city', '--confirm', 'City'], /^twofold: To delete City, type its slug, city, exactly\.$/, 1],
      [['org', 'delete', 'nowhere', '--confirm', 'nowhere'], /^twofold: There is no organization with the slug "nowhere"\.$/, 1],
      [['org', 'rename', 'city', '--name', 'x'.repeat(300)], /^twofold: The organization name must be 1 to 200 characters\.$/, 1],
      [['org', 'rename', 'city'], /^twofold: --name is required\.$/, 2],
      [['org', 'create', 'town', '--name', 'Town', '--owner', 'not-an-email'], /^twofold: "not-an-email" is not a valid email address\.$/, 1],
      [['org', 'create', 'city', '--name', 'City'], /^twofold: An organization with the slug "city" already exists\.$/, 1],
      [['client', 'rotate-secret', 'spa'], /^twofold: "spa" is a public application: it has no secret to rotate\.$/, 1],
      [['client', 'rotate-secret', 'nobody'], /^twofold: There is no application with the client id "nobody"\.$/, 1],
      [['client', 'rotate-secret', 'spa', '--grace-hours', 'soon'], /^twofold: The old secret can keep working for a whole number of hours from 0 to 168\.$/, 1],
      [['client', 'delete', 'nobody'], /^twofold: There is no application with the client id "nobody"\.$/, 1],
      [['client', 'delete'], /^twofold: Missing <client-id>\.$/, 2],
      [['client', 'list', 'extra'], /^twofold: Unexpected argument "extra"\.$/, 2],
      [['client', 'create', 'app', '--redirect-uri', 'https://app.test/cb#done'], /^twofold: "https:\/\/app\.test\/cb#done" must not contain a fragment \(#\)\.$/, 1],
      [['client', 'create', 'app', '--redirect-uri', 'https://*.app.test/cb'], /must not contain a wildcard/, 1],
      [['client', 'create', 'app', '--redirect-uri', 'http://app.test/cb'], /^twofold: "http:\/\/app\.test\/cb" must be an https URL: plain http is allowed only for localhost\.$/, 1],
      [['client', 'create', 'twofold-admin', '--redirect-uri', 'https://app.test/cb'], /^twofold: The client id "twofold-admin" belongs to one of Twofold's own pages\. Choose another\.$/, 1],
      [['client', 'create', 'app', '--redirect-uri', 'http://localhost:3000/cb'], /^twofold: "http:\/\/localhost:3000\/cb" must be an https URL: this site runs in production, where plain http is refused\.$/, 1, PRODUCTION],
    ];
    for (const [argv, expected, status, env] of failures) {
      const result = await cli(dir, argv, env);
      expect([argv, result]).toMatchObject([argv, { status, out: [], err: [expect.stringMatching(expected)] }]);
    }
    await inStore(dir, async (store) => {
      expect((await store.organizations.list()).map((organization) => [organization.slug, organization.name])).toStrictEqual([['city', 'City']]);
      expect((await store.clients.list()).map((client) => client.clientId)).toStrictEqual(['spa']);
    });
  });
});
