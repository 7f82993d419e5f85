import { Browser, type Page } from './browser.js';
import { OPERATOR } from '../../src/application/actor.js';
import { REDIRECT_URI, discover, oidc } from './relying-party.js';
import { TestSmtpServer } from './smtp.js';
import { startTestInstance, type TestInstance } from './twofold.js';

export const PASSWORD = 'a long enough password';

export interface Fixture {
  readonly twofold: TestInstance;
  readonly smtp: TestSmtpServer;
  /** openid-client configured for the first-party public client "app". */
  readonly rp: oidc.Configuration;
  /** A new user with PASSWORD, in the given organizations ("city" forces 2FA, "county" does not). */
  newUser(orgs?: Array<{ slug: string; role: 'owner' | 'member' }>): Promise<string>;
  close(): Promise<void>;
}

let users = 0;

/** Twofold with a real SMTP server, an enforcing organization "city", a plain one "county" and a client. */
export async function startFixture(): Promise<Fixture> {
  const smtp = new TestSmtpServer();
  const twofold = await startTestInstance({ SMTP_URL: await smtp.start() });
  await twofold.app.organizations.create(OPERATOR, 'city', 'City');
  await twofold.app.organizations.create(OPERATOR, 'county', 'County');
  await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
  await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
  const rp = await discover(twofold.url, 'app');
  return {
    twofold,
    smtp,
    rp,
    async newUser(orgs = []) {
      users += 1;
      const email = `user${users}-${process.pid}@city.test`;
      await twofold.app.users.create(OPERATOR, { email, password: PASSWORD, orgs });
      return email;
    },
    async close() {
      await twofold.close();
      await smtp.close();
    },
  };
}

/** Confirms oidc-provider's "Sign out?" page the way a person clicks "Sign out". */
export async function confirmSignOut(browser: Browser, confirm: Page): Promise<Page> {
  const action = /<form[^>]*action="([^"]+)"/.exec(confirm.html)![1]!;
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
  return browser.visit(new URL(action, confirm.url).href, {
    method: 'POST',
    body: new URLSearchParams({ xsrf, logout: 'yes' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
}
