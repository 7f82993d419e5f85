import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cli, inStore } from '../support/cli.js';
import { TestSmtpServer } from '../support/smtp.js';
import { tempDir } from '../support/twofold.js';

/*
 * The command line acts as the operator, through the same application layer as the admin pages:
 * an organization keeps its last owner, and every change writes its audit entry and sends its
 * e-mails — also from a terminal.
 */
describe('the command line obeys the same rules as the pages', () => {
  let smtp: TestSmtpServer;
  let env: Record<string, string>;
  let dir: string;
  const run = (argv: string[], stdin = '') => cli(dir, argv, { stdin, env });
  const auditOf = (slug: string | null) => inStore(dir, async (store) => {
    const id = slug ? (await store.organizations.findBySlug(slug))!.id : null;
    return (await store.audit.list(id, { limit: 100, offset: 0 })).events;
  });
  const roleOf = (slug: string, email: string) => inStore(dir, async (store) => {
    const organization = (await store.organizations.findBySlug(slug))!;
    return (await store.memberships.find(organization.id, (await store.users.findByEmail(email))!.id))?.role ?? null;
  });

  beforeAll(async () => {
    smtp = new TestSmtpServer();
    env = { SMTP_URL: await smtp.start(), PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_ITERATIONS: '1' };
    dir = tempDir();
    for (const argv of [
      ['org', 'create', 'city', '--name', 'City'],
      ['user', 'create', 'olivia@city.test', '--password', 'a long password', '--org', 'city:owner'],
      ['user', 'create', 'max@city.test', '--password', 'a long password', '--org', 'city'],
      ['user', 'create', 'nina@city.test', '--password', 'a long password'],
    ]) expect((await run(argv)).status).toBe(0);
  });
  afterAll(() => smtp?.close());

  it('keeps the last owner: member add refuses to demote her, and says why in one line', async () => {
    const demoted = await run(['member', 'add', 'city', 'olivia@city.test', '--role', 'member']);
    expect([demoted.status, demoted.err]).toStrictEqual([1, ['twofold: olivia@city.test is the last owner of City. Make someone else an owner first.']]);
    expect(await roleOf('city', 'olivia@city.test')).toBe('owner');

    // With a second owner, the same command goes through, and is audited as a role change.
    expect((await run(['member', 'add', 'city', 'max@city.test', '--role', 'owner'])).status).toBe(0);
    expect((await run(['member', 'add', 'city', 'olivia@city.test', '--role', 'member'])).status).toBe(0);
    expect(await roleOf('city', 'olivia@city.test')).toBe('member');
    const changes = (await auditOf('city')).filter((event) => event.action === 'member.role_changed');
    expect(changes.map((event) => [event.targetEmail, event.details.to, event.actorId])).toEqual(expect.arrayContaining([['max@city.test', 'owner', null], ['olivia@city.test', 'member', null]]));
  });

  it('keeps the last owner in user import --update too, line by line', async () => {
    fs.writeFileSync(path.join(dir, 'update.csv'), [
      'email,password,orgs',
      'max@city.test,a long password,city',
      'nina@city.test,a long password,city',
    ].join('\n'));
    const result = await run(['user', 'import', 'update.csv', '--update']);
    expect(result.status).toBe(1);
    expect(result.err).toContain('line 2: max@city.test is the last owner of "city"; make someone else an owner first');
    expect(await roleOf('city', 'max@city.test')).toBe('owner');
    expect(await roleOf('city', 'nina@city.test')).toBe('member');
  });

  it('audits and e-mails "org set" and "member add" as the admin pages do', async () => {
    const before = smtp.messages.length;
    const on = await run(['org', 'set', 'city', '--force-2fa', 'on']);
    expect(on.out).toStrictEqual(['Force Two-Factor Authentication is on for "city". 3 members without it were e-mailed.']);
    const policy = (await auditOf('city')).find((event) => event.action === 'policy.changed');
    expect(policy).toMatchObject({ actorId: null, details: { before: false, forceTwoFactor: true, via: 'command line' } });
    await smtp.waitFor('nina@city.test', /Your organization now requires two-factor authentication/);
    expect(smtp.messages.slice(before).map((message) => message.to).sort()).toStrictEqual(['max@city.test', 'nina@city.test', 'olivia@city.test']);

    expect((await run(['user', 'create', 'newbie@city.test', '--password', 'a long password'])).status).toBe(0);
    expect((await run(['member', 'add', 'city', 'newbie@city.test'])).status).toBe(0);
    expect((await auditOf('city')).find((event) => event.action === 'member.added' && event.targetEmail === 'newbie@city.test')).toMatchObject({ actorId: null, details: { via: 'command line' } });
  });

  it('audits the break-glass "user disable-2fa", signs the user out, and e-mails who did it', async () => {
    await inStore(dir, async (store) => {
      const nina = (await store.users.findByEmail('nina@city.test'))!;
      await store.secondFactors.enable({ userId: nina.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
      await store.oidc.upsert('Session', 'nina-session', { kind: 'Session', accountId: nina.id }, new Date(Date.now() + 3_600_000));
    });
    const result = await run(['user', 'disable-2fa', 'nina@city.test', '--reason', 'lost phone, ticket 4711']);
    expect(result.status).toBe(0);
    const reset = (await auditOf('city')).find((event) => event.action === 'two_factor.reset_by_admin');
    expect(reset).toMatchObject({ actorId: null, targetEmail: 'nina@city.test', details: { reason: 'lost phone, ticket 4711' } });
    await inStore(dir, async (store) => {
      expect(await store.secondFactors.find((await store.users.findByEmail('nina@city.test'))!.id)).toBeNull();
      expect(await store.oidc.find('Session', 'nina-session')).toBeNull();
    });
    const mail = await smtp.waitFor('nina@city.test', /Two-factor authentication was turned off/);
    expect(mail.text).toMatch(/The site operator turned off two-factor authentication/);
    expect(mail.text).toMatch(/lost phone, ticket 4711/);
  });
});
