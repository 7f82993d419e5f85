import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Browser, type Page } from '../support/browser.js';
import { PASSWORD, startFixture, type Fixture } from '../support/fixture.js';
import { REDIRECT_URI, exchangeCode, signInWithPassword, startSignIn } from '../support/relying-party.js';
import { codeAt, completeSetup, submitPasscode } from '../support/second-factor.js';

/**
 * The benchmark's load, small enough for every test run: many two-factor sign-ins at once, each user
 * sending their code from two sign-ins at the same moment. Every first one must succeed, every second
 * one must be refused as a replay, and nothing may answer 5xx.
 */
describe('two-factor sign-ins under concurrent load', () => {
  let fixture: Fixture;
  const USERS = 24;
  const users: Array<{ email: string; secret: string }> = [];

  beforeAll(async () => {
    fixture = await startFixture();
    for (let i = 0; i < USERS; i += 1) {
      const email = await fixture.newUser([{ slug: 'city', role: 'member' }]);
      const browser = new Browser(fixture.twofold.url);
      const { secret } = await completeSetup(browser, await signInWithPassword(browser, await startSignIn(fixture.rp), email, PASSWORD));
      users.push({ email, secret });
    }
  });
  afterAll(() => fixture.close());

  it('completes every sign-in, accepts each passcode once, and never answers 5xx', async () => {
    const statuses: number[] = [];
    const attempts = users.flatMap((user) => [0, 1].map(async () => {
      const browser = new Browser(fixture.twofold.url);
      const pending = await startSignIn(fixture.rp);
      const challenge = await signInWithPassword(browser, pending, user.email, PASSWORD);
      statuses.push(challenge.status);
      return { user, browser, pending, challenge };
    }));
    const ready = await Promise.all(attempts);
    const results = await Promise.all(ready.map(async ({ user, browser, pending, challenge }) => {
      const landed: Page = await submitPasscode(browser, challenge, await codeAt(user.secret, 1));
      statuses.push(landed.status);
      if (!landed.url.startsWith(REDIRECT_URI)) return { user, ok: false, replay: /already used/.test(landed.html) };
      const tokens = await exchangeCode(fixture.rp, landed.url, pending);
      return { user, ok: (tokens.claims()!.amr as string[]).includes('mfa'), replay: false };
    }));
    expect(statuses.filter((status) => status >= 500)).toStrictEqual([]);
    for (const user of users) {
      const mine = results.filter((result) => result.user === user);
      // Exactly one sign-in with the code; the other is refused as a replay.
      expect({ user: user.email, signedIn: mine.filter((result) => result.ok).length, replays: mine.filter((result) => result.replay).length })
        .toStrictEqual({ user: user.email, signedIn: 1, replays: 1 });
    }
  });
});
