import fs from 'node:fs';
import { OPERATOR } from '../../src/application/actor.js';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../src/log.js';
import { Mailer } from '../../src/mail/mailer.js';
import { Browser } from '../support/browser.js';
import { REDIRECT_URI, discover, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { completeSetup } from '../support/second-factor.js';
import { TestSmtpServer } from '../support/smtp.js';
import { freePort, startTestInstance, tempDir } from '../support/twofold.js';

describe('e-mail', () => {
  it('writes messages to DATA_DIR/outbox when no SMTP_URL is set', async () => {
    const dataDir = tempDir();
    const lines: string[] = [];
    const mailer = new Mailer(loadConfig({ DATA_DIR: dataDir }), createLogger('info', (line) => lines.push(line)));
    mailer.send({ to: 'ada@city.test', message: 'two-factor-disabled', locals: { actor: 'Olivia Owner', reason: 'lost phone' } });
    await mailer.close();
    const files = fs.readdirSync(path.join(dataDir, 'outbox'));
    expect(files).toHaveLength(1);
    const eml = fs.readFileSync(path.join(dataDir, 'outbox', files[0]!), 'utf8');
    expect(eml).toMatch(/^To: ada@city\.test$/m);
    expect(eml).toMatch(/^Subject: Two-factor authentication was turned off for your account$/m);
    expect(eml).toMatch(/Olivia Owner turned off two-factor authentication/);
    expect(lines).toContainEqual(expect.stringContaining('e-mail sent'));
  });

  it('never fails or undoes the action when the mail server is down, and delivers once it is back', async () => {
    const port = await freePort();
    const twofold = await startTestInstance({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    const smtp = new TestSmtpServer();
    try {
      await twofold.app.organizations.create(OPERATOR, 'city', 'City');
      await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
      await twofold.app.users.create(OPERATOR, { email: 'ada@city.test', password: 'a long enough password', orgs: [{ slug: 'city', role: 'member' }] });
      await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
      const rp = await discover(twofold.url, 'app');
      const browser = new Browser(twofold.url);
      const setup = await signInWithPassword(browser, await startSignIn(rp), 'ada@city.test', 'a long enough password');
      const { landed } = await completeSetup(browser, setup);
      // The setup completed although no e-mail could be sent.
      expect(landed.url).toStartWith(REDIRECT_URI);
      await twofold.mailer.idle();
      expect(twofold.logLines.some((line) => line.includes('e-mail could not be sent; will retry') && line.includes('ada@city.test'))).toBe(true);

      await smtp.start(port);
      const mail = await smtp.waitFor('ada@city.test', /Two-factor authentication is now on/, 8000);
      expect(mail).toBeTruthy();
    } finally {
      await twofold.close();
      await smtp.close();
    }
  });
});
