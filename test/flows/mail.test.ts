import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { Browser } from '../support/browser.js';
import { REDIRECT_URI, discover, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { completeSetup } from '../support/second-factor.js';
import { TestSmtpServer } from '../support/smtp.js';
import { freePort, startTestInstance, waitForLogLine } from '../support/twofold.js';

describe('e-mail', () => {
  it('writes messages to DATA_DIR/outbox when no SMTP_URL is set, one file per message', async () => {
    const twofold = await startTestInstance();
    try {
      await twofold.mailer.send({ to: 'ada@city.test', message: 'two-factor-disabled', locals: { actor: 'Olivia Owner', reason: 'lost phone' } });
      const line = await waitForLogLine(twofold, (candidate) => candidate.includes('"e-mail sent"'));
      expect(JSON.parse(line)).toMatchObject({ to: 'ada@city.test', subject: 'Two-factor authentication was turned off for your account', outboxId: expect.any(String) });
      const files = fs.readdirSync(path.join(twofold.config.dataDir, 'outbox'));
      expect(files).toHaveLength(1);
      const eml = fs.readFileSync(path.join(twofold.config.dataDir, 'outbox', files[0]!), 'utf8');
      expect(eml).toMatch(/^To: ada@city\.test$/m);
      expect(eml).toMatch(/^Subject: Two-factor authentication was turned off for your account$/m);
      expect(eml).toMatch(/Olivia Owner turned off two-factor authentication/);
      // The outbox id is the Message-ID, so that a receiving server can tell a resend from a new message.
      expect(eml).toMatch(new RegExp(`^Message-ID: <${JSON.parse(line).outboxId}@127\\.0\\.0\\.1>$`, 'm'));
    } finally {
      await twofold.close();
    }
  });

  it('never fails or undoes the action when the mail server is down, and delivers once it is back', async () => {
    const port = await freePort();
    const twofold = await startTestInstance({ SMTP_URL: `smtp://127.0.0.1:${port}`, OUTBOX_RETRY_SECONDS: '1', OUTBOX_POLL_SECONDS: '1' });
    const smtp = new TestSmtpServer();
    try {
      await twofold.app.organizations.create(OPERATOR, 'city', 'City');
      await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
      // A first set-up confirmed by an e-mailed code cannot finish while the mail server is down; this
      // test is about the e-mail that reports the set-up, so the confirmation is switched off.
      await twofold.app.organizations.setRollout(OPERATOR, 'city', { confirmSetupByEmail: false }, null);
      await twofold.app.users.create(OPERATOR, { email: 'ada@city.test', password: 'a long enough password', orgs: [{ slug: 'city', role: 'member' }] });
      await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
      const rp = await discover(twofold.url, 'app');
      const browser = new Browser(twofold.url);
      const setup = await signInWithPassword(browser, await startSignIn(rp), 'ada@city.test', 'a long enough password');
      const { landed } = await completeSetup(browser, setup);
      // The setup completed although no e-mail could be sent.
      expect(landed.url).toStartWith(REDIRECT_URI);
      await waitForLogLine(twofold, (line) => line.includes('e-mail could not be sent; will retry') && line.includes('ada@city.test'));

      await smtp.start(port);
      const mail = await smtp.waitFor('ada@city.test', /Two-factor authentication is now on/);
      expect(mail).toBeTruthy();
    } finally {
      await twofold.close();
      await smtp.close();
    }
  });
});
