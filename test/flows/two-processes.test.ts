import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adminBrowser, postForm } from '../support/admin.js';
import { Browser, type Page } from '../support/browser.js';
import { cli, inStore } from '../support/cli.js';
import { roundRobin, type LoadBalancer } from '../support/load-balancer.js';
import { startTwofoldProcess, type TwofoldProcess } from '../support/process.js';
import { REDIRECT_URI, discover, exchangeCode, signInWithPassword, startSignIn, type oidc } from '../support/relying-party.js';
import { codeAt, completeSetup, submitPasscode } from '../support/second-factor.js';
import { TestSmtpServer } from '../support/smtp.js';
import { freePort, tempDir } from '../support/twofold.js';

const PASSWORD = 'a long enough password';
const SIGNERS = 6;
const STAFF = 40;
const LOCKOUT_THRESHOLD = 4;
/** Any bcrypt hash will do: the staff are only e-mailed, never signed in. */
const SOME_HASH = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';

/**
 * Two Twofold processes on one SQLite file (WAL), sharing nothing but that file, behind a load
 * balancer that sends each request to the other process than the last: every sign-in, lockout
 * and e-mail below crosses between them.
 */
describe('two processes on one SQLite database', () => {
  const dataDir = tempDir();
  const smtp = new TestSmtpServer({ delayMs: 100 });
  let processes: TwofoldProcess[] = [];
  let balancer: LoadBalancer;
  let rp: oidc.Configuration;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    const [portA, portB, smtpUrl] = [await freePort(), await freePort(), await smtp.start()];
    // The issuer is the load balancer's address: it must be up before the processes start to use it.
    balancer = await roundRobin([portA, portB]);
    const env = {
      DATA_DIR: dataDir,
      ISSUER: balancer.url,
      SMTP_URL: smtpUrl,
      OUTBOX_POLL_SECONDS: '1',
      OUTBOX_RETRY_SECONDS: '1',
      SECOND_FACTOR_LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
      SECOND_FACTOR_ATTEMPTS_PER_SIGN_IN: '20',
      PASSWORD_HASH_MEMORY_KIB: '1024',
      PASSWORD_HASH_ITERATIONS: '1',
    };
    await cli(dataDir, ['org', 'create', 'city', '--name', 'City'], { env });
    await cli(dataDir, ['org', 'set', 'city', '--force-2fa', 'on'], { env });
    await cli(dataDir, ['org', 'create', 'staff', '--name', 'Staff'], { env });
    for (const email of [...Array.from({ length: SIGNERS }, (_, n) => `signer${n}@city.test`), 'locked@city.test']) {
      await cli(dataDir, ['user', 'create', email, '--password', PASSWORD, '--org', 'city'], { env });
    }
    await cli(dataDir, ['user', 'create', 'owner@staff.test', '--password', PASSWORD, '--org', 'staff:owner'], { env });
    fs.writeFileSync(path.join(dataDir, 'staff.csv'), ['email,password_hash,orgs', ...Array.from({ length: STAFF }, (_, n) => `member${n}@staff.test,${SOME_HASH},staff`)].join('\n'));
    expect((await cli(dataDir, ['user', 'import', 'staff.csv'], { env })).status).toBe(0);
    await cli(dataDir, ['client', 'create', 'app', '--redirect-uri', REDIRECT_URI, '--first-party'], { env });
    processes = await Promise.all([startTwofoldProcess({ ...env, PORT: String(portA) }), startTwofoldProcess({ ...env, PORT: String(portB) })]);
    rp = await discover(balancer.url, 'app');
  });

  afterAll(async () => {
    for (const process of processes) expect(await process.stop('SIGTERM')).toStrictEqual({ code: 0, signal: null });
    await balancer?.close();
    await smtp.close();
  });

  /** The requests each process answered (its request log), by route group. */
  const served = (process: TwofoldProcess, route: string) => process.events().filter((event) => event.message === 'request' && event.route === route).length;

  it('runs sign-ins with their setup and passcodes across both, and refuses a passcode replayed at the other', async () => {
    for (let n = 0; n < SIGNERS; n += 1) {
      const browser = new Browser(balancer.url);
      const pending = await startSignIn(rp);
      const { secret, landed } = await completeSetup(browser, await signInWithPassword(browser, pending, `signer${n}@city.test`, PASSWORD));
      expect(landed.url).toStartWith(REDIRECT_URI);
      await exchangeCode(rp, landed.url, pending);
      secrets.set(`signer${n}@city.test`, secret);
    }
    const signIns = await Promise.all([...secrets].map(async ([email, secret]) => {
      const browser = new Browser(balancer.url);
      const pending = await startSignIn(rp);
      const code = await codeAt(secret, 1);
      const landed = await submitPasscode(browser, await signInWithPassword(browser, pending, email, PASSWORD), code);
      expect([email, landed.url]).toStrictEqual([email, expect.stringMatching(/^https:\/\/rp\.example\.test\/callback\?code=/)]);
      const tokens = await exchangeCode(rp, landed.url, pending);
      return { email, code, amr: tokens.claims()!.amr };
    }));
    expect(signIns.map(({ amr }) => amr)).toStrictEqual(Array(SIGNERS).fill(['pwd', 'otp', 'mfa']));
    // The same passcode again, wherever it lands, is a replay.
    for (const { email, code } of signIns) {
      const browser = new Browser(balancer.url);
      const again = await submitPasscode(browser, await signInWithPassword(browser, await startSignIn(rp), email, PASSWORD), code);
      expect([email, again.html.includes('That code was already used.')]).toStrictEqual([email, true]);
    }
    for (const process of processes) expect(served(process, 'interaction')).toBeGreaterThan(SIGNERS);
  });

  it('locks an account after the threshold of wrong codes counted across both, once', async () => {
    // Someone with no failure counted yet: the signers' replays above were failures.
    const email = 'locked@city.test';
    const setupBrowser = new Browser(balancer.url);
    const { secret } = await completeSetup(setupBrowser, await signInWithPassword(setupBrowser, await startSignIn(rp), email, PASSWORD));
    const browser = new Browser(balancer.url);
    const challenge: Page = await signInWithPassword(browser, await startSignIn(rp), email, PASSWORD);
    let page = challenge;
    const answers: string[] = [];
    for (let attempt = 0; attempt < LOCKOUT_THRESHOLD; attempt += 1) {
      page = await submitPasscode(browser, page, '000000');
      answers.push(page.html.includes('so it is locked until') ? 'locked' : page.html.includes('not valid') ? 'invalid' : `${page.status}`);
    }
    expect(answers).toStrictEqual([...Array(LOCKOUT_THRESHOLD - 1).fill('invalid'), 'locked']);
    // Locked at both: the right code, sent from the challenge as it was, is refused too, at the one and at the other.
    for (let step = 2; step < 4; step += 1) {
      page = await submitPasscode(browser, challenge, await codeAt(secret, step));
      expect(page.html).toContain('so it is locked until');
    }
    const lockMails = async () => smtp.messages.filter((message) => message.to === email && /paused/.test(message.text));
    await smtp.waitFor(email, /Someone entered your password/);
    await sleep(2500);
    expect(await lockMails()).toHaveLength(1);
    await inStore(dataDir, async (store) => {
      const user = (await store.users.findByEmail(email))!;
      const city = (await store.organizations.findBySlug('city'))!;
      const locks = (await store.audit.list(city.id, { limit: 500, offset: 0 })).events.filter((event) => event.action === 'second_factor.locked' && event.targetId === user.id);
      expect(locks).toHaveLength(1);
    });
  });

  it('sends the e-mails of a change made at one process once each, whichever process sends them', async () => {
    const { browser } = await adminBrowser(balancer.url, 'owner@staff.test', PASSWORD);
    // Saved; the owner's own session then needs the second factor it now requires, so the next page is its setup.
    const saved = await postForm(browser, '/admin/orgs/staff/settings', { forceTwoFactor: 'on' });
    expect(saved.html).toContain('Set up two-factor authentication');
    const recipients = ['owner@staff.test', ...Array.from({ length: STAFF }, (_, n) => `member${n}@staff.test`)];
    for (const email of recipients) await smtp.waitFor(email, /Your organization now requires two-factor authentication/);
    await sleep(2500);
    const received = smtp.messages.filter((message) => /now requires two-factor/.test(message.subject)).map((message) => message.to).sort();
    expect(received).toStrictEqual(recipients.sort());
    // Both processes' workers sent some: each message was claimed by one of them, none by both.
    const sentBy = processes.map((process) => process.events().filter((event) => event.message === 'e-mail sent' && String(event.to).endsWith('@staff.test') && /now requires two-factor/.test(String(event.subject))).length);
    expect(sentBy.reduce((sum, count) => sum + count, 0)).toBe(recipients.length);
    expect(sentBy.every((count) => count > 0)).toBe(true);
  });
});
