import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { createLogger } from '../../src/log.js';
import { LEASE_MS, MailDelivery } from '../../src/mail/delivery.js';
import { GIVE_UP_AFTER_MS } from '../../src/mail/retry-policy.js';
import { adminBrowser, postForm } from '../support/admin.js';
import { cli, inStore } from '../support/cli.js';
import { TestSmtpServer } from '../support/smtp.js';
import { freePort, startTestInstance, tempDir, waitForLogLine, type TestInstance } from '../support/twofold.js';

const PASSWORD = 'a long enough password';
const DEACTIVATED = /Two-factor authentication was turned off/;

async function memberWithTwoFactor(twofold: TestInstance, email: string, orgs: Array<{ slug: string; role: 'owner' | 'member' }> = []) {
  const user = await twofold.app.users.create(OPERATOR, { email, password: PASSWORD, orgs });
  await twofold.store.secondFactors.enable({ userId: user.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
  return user;
}

/** Several rounds of the worker loop (OUTBOX_POLL_SECONDS=1), for anything that would be sent twice to show up. */
const someRounds = () => sleep(2500);

describe('the durable mail outbox', () => {
  it('keeps an e-mail caused while the mail server is down through a restart, and delivers it exactly once', async () => {
    const smtpPort = await freePort();
    const env = { DATA_DIR: tempDir(), SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, OUTBOX_RETRY_SECONDS: '1', OUTBOX_POLL_SECONDS: '1' };
    let twofold = await startTestInstance(env);
    const smtp = new TestSmtpServer();
    try {
      await twofold.app.organizations.create(OPERATOR, 'city', 'City');
      await twofold.app.users.create(OPERATOR, { email: 'olivia@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'owner' }] });
      const max = await memberWithTwoFactor(twofold, 'max@city.test', [{ slug: 'city', role: 'member' }]);

      // The owner disables the member's 2FA on the admin page while the mail server is down.
      const { browser } = await adminBrowser(twofold.url, 'olivia@city.test', PASSWORD);
      const done = await postForm(browser, `/admin/orgs/city/members/${max.id}/disable-2fa`, { reason: 'lost phone' });
      expect(done.html).toContain('Two-factor authentication was disabled.');
      expect(await twofold.store.secondFactors.find(max.id)).toBeNull();
      await waitForLogLine(twofold, (line) => line.includes('e-mail could not be sent; will retry') && line.includes('max@city.test'));

      await twofold.close();
      twofold = await startTestInstance({ ...env, PORT: new URL(twofold.url).port });
      await smtp.start(smtpPort);
      await smtp.waitFor('max@city.test', DEACTIVATED);
      await someRounds();
      expect(smtp.messages.filter((message) => message.to === 'max@city.test' && DEACTIVATED.test(message.subject))).toHaveLength(1);
      expect((await twofold.store.outbox.depth()).pending).toBe(0);
    } finally {
      await twofold.close();
      await smtp.close();
    }
  });

  it('keeps what the command line could not send for the server, which sends it once', async () => {
    const smtpPort = await freePort();
    // The command line here reads DATA_DIR only, so the server uses the same embedded store.
    const env = { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, OUTBOX_RETRY_SECONDS: '1', OUTBOX_POLL_SECONDS: '1', MONGODB_URI: '' };
    const dataDir = tempDir();
    await cli(dataDir, ['user', 'create', 'root@x.test', '--password', PASSWORD, '--site-admin'], { env });
    await inStore(dataDir, async (store) => {
      const root = (await store.users.findByEmail('root@x.test'))!;
      await store.secondFactors.enable({ userId: root.id, sealedSecret: 'sealed', lastTimeStep: 0, recoveryKeyId: 'k', recoveryCodeHashes: [] });
    });

    const breakGlass = await cli(dataDir, ['user', 'disable-2fa', 'root@x.test', '--reason', 'lost phone'], { env });
    expect(breakGlass.status).toBe(0);
    expect(breakGlass.err).toStrictEqual([expect.stringMatching(/^twofold: WARN e-mail could not be sent; will retry .*to=root@x\.test/)]);

    const smtp = new TestSmtpServer();
    await smtp.start(smtpPort);
    const server = await startTestInstance({ ...env, DATA_DIR: dataDir });
    try {
      await smtp.waitFor('root@x.test', DEACTIVATED);
      await someRounds();
      expect(smtp.messages.filter((message) => message.to === 'root@x.test')).toHaveLength(1);
    } finally {
      await server.close();
      await smtp.close();
    }
  });

  it('gives up after 24 hours, lists the message for site admins without its body, and Retry sends it once', async () => {
    const smtpPort = await freePort();
    // After the first failure the instance's own worker waits an hour: the day passes in the other worker below.
    const twofold = await startTestInstance({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, OUTBOX_RETRY_SECONDS: '3600', OUTBOX_POLL_SECONDS: '1' });
    const smtp = new TestSmtpServer();
    try {
      await twofold.app.users.create(OPERATOR, { email: 'root@x.test', password: PASSWORD, siteAdmin: true });
      // The site admin sets up a second factor for /admin while the mail server is down, which an
      // e-mailed confirmation code would stop; this test is about the outbox, so it is switched off.
      await twofold.app.site.setSetupConfirmation(OPERATOR, false, null);
      const max = await memberWithTwoFactor(twofold, 'max@x.test');
      await twofold.app.users.disableTwoFactor(OPERATOR, max.id, null, 'ticket 4711');
      await waitForLogLine(twofold, (line) => line.includes('e-mail could not be sent; will retry') && line.includes('max@x.test'));

      // A worker whose clock says the day is over: the same code, on the same store, as another process would run it.
      const { composition } = twofold;
      const tomorrow = new Date(Date.now() + GIVE_UP_AFTER_MS + LEASE_MS);
      const lateWorker = new MailDelivery(twofold.config, composition.store.outbox, composition.box, createLogger('silent'), composition.metrics, { now: () => tomorrow });
      expect(await lateWorker.deliverDue()).toBe(0);
      lateWorker.close();
      const [failed, ...none] = await twofold.store.outbox.listFailed(10);
      expect(none).toStrictEqual([]);
      expect(failed).toMatchObject({ to: 'max@x.test', state: 'failed', attempts: 2, lastError: expect.stringContaining('ECONNREFUSED') });
      const metrics = await (await fetch(`${twofold.url}/metrics`)).text();
      expect(metrics).toMatch(/^twofold_emails_failed_total\{message="two-factor-disabled"\} 1$/m);
      expect(metrics).toMatch(/^twofold_outbox_failed 1$/m);

      const { browser } = await adminBrowser(twofold.url, 'root@x.test', PASSWORD);
      const site = await browser.visit('/admin/site');
      expect(site.html).toContain('<h2 id="emails-heading">E-mails that could not be sent</h2>');
      expect(site.html).toContain('<td>max@x.test</td><td>Two-factor authentication was turned off for your account</td>');
      expect(site.html).toMatch(/ECONNREFUSED[^<]*\(2 attempts\)/);
      expect(site.html).toContain(`aria-label="Retry the e-mail to max@x.test: Two-factor authentication was turned off for your account"`);
      // Never the body: it is not on the page (the operator's reason is in it).
      expect(site.html).not.toContain('ticket 4711');

      const retry = `/admin/site/emails/${failed!.id}/retry`;
      const forged = await browser.visit(retry, { method: 'POST', body: new URLSearchParams({ _csrf: 'forged' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(forged.status).toBe(403);
      expect((await twofold.store.outbox.listFailed(10)).map((entry) => entry.id)).toStrictEqual([failed!.id]);

      await smtp.start(smtpPort);
      const retried = await postForm(browser, retry);
      expect(retried.status).toBe(200);
      expect(retried.html).toContain('The e-mail will be sent again now');
      expect(retried.html).toContain('Every e-mail was taken by the mail server, or is still being tried.');
      const mail = await smtp.waitFor('max@x.test', DEACTIVATED);
      expect(mail.text).toContain('ticket 4711');
      const again = await postForm(browser, retry);
      expect([again.status, again.html]).toStrictEqual([404, expect.stringContaining('That e-mail is no longer waiting to be retried')]);
      await someRounds();
      expect(smtp.messages.filter((message) => message.to === 'max@x.test')).toHaveLength(1);

      const [event] = (await twofold.store.audit.list(null, { limit: 1, offset: 0 })).events;
      expect(event).toMatchObject({ action: 'email.retried', actorEmail: 'root@x.test', targetEmail: 'max@x.test', details: { to: 'max@x.test', subject: 'Two-factor authentication was turned off for your account' } });
    } finally {
      await twofold.close();
      await smtp.close();
    }
  });
});
