import { describe, expect, it } from '@jest/globals';
import { OPERATOR } from '../../src/application/actor.js';
import { LOCKOUT_KINDS, SECOND_FACTOR_OUTCOMES, SIGN_IN_OUTCOMES } from '../../src/application/metrics.js';
import { LOGOUT_TOKEN_OUTCOMES } from '../../src/provider/back-channel-logout.js';
import { ROUTE_GROUP_NAMES } from '../../src/http/route-groups.js';
import { MESSAGES } from '../../src/mail/messages.js';
import { Browser, type Page } from '../support/browser.js';
import { REDIRECT_URI, discover, signInWithPassword, startSignIn, type oidc } from '../support/relying-party.js';
import { codeAt, completeSetup, submitPasscode } from '../support/second-factor.js';
import { TestSmtpServer } from '../support/smtp.js';
import { startTestInstance, waitForLogLine } from '../support/twofold.js';

const TOKEN = 'b1e2c0f4a7d94e0c8f3a6b5d2e1f0a9c8b7d6e5f';
const PASSWORD = 'a long enough password';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function samples(text: string): Sample[] {
  return text.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key!, value!]));
    return { name: match[1]!, labels, value: Number(match[3]) };
  });
}

const valueOf = (all: Sample[], name: string, labels: Record<string, string> = {}) =>
  all.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;

/** Every value each label of Twofold's own metrics may take: fixed lists, never a person or a path. */
const ALLOWED_LABELS: Record<string, (value: string) => boolean> = {
  route: (value) => ROUTE_GROUP_NAMES.includes(value),
  status: (value) => /^[1-5]\d\d$/.test(value),
  outcome: (value) => ([...SIGN_IN_OUTCOMES, ...SECOND_FACTOR_OUTCOMES, ...LOGOUT_TOKEN_OUTCOMES] as string[]).includes(value),
  factor: (value) => ['totp', 'recovery-code', 'security-key'].includes(value),
  kind: (value) => (LOCKOUT_KINDS as readonly string[]).includes(value),
  message: (value) => Object.keys(MESSAGES).includes(value),
  le: (value) => value === '+Inf' || Number.isFinite(Number(value)),
};

describe('/metrics', () => {
  it('is served to loopback, and to any other address only with the METRICS_TOKEN', async () => {
    const twofold = await startTestInstance({ TRUST_PROXY: '1', METRICS_TOKEN: TOKEN });
    const scrape = (headers: Record<string, string> = {}, method = 'GET') => fetch(`${twofold.url}/metrics`, { method, headers });
    try {
      const local = await scrape();
      expect([local.status, local.headers.get('content-type'), local.headers.get('cache-control')]).toStrictEqual([200, 'text/plain; version=0.0.4; charset=utf-8', 'no-store']);
      expect(await local.text()).toContain('# TYPE twofold_http_requests_total counter');

      // Through the one proxy TRUST_PROXY=1 trusts, from an address elsewhere.
      const remote = { 'X-Forwarded-For': '203.0.113.9' };
      const refused = await scrape(remote);
      expect([refused.status, refused.headers.get('www-authenticate')]).toStrictEqual([401, 'Bearer realm="metrics"']);
      expect(await refused.text()).not.toContain('twofold_');
      expect((await scrape({ ...remote, Authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
      expect((await scrape({ ...remote, Authorization: `Basic ${TOKEN}` })).status).toBe(401);
      expect((await scrape({ ...remote, Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      // A client cannot pass for loopback by writing the header itself: the proxy appends the address it saw.
      expect((await scrape({ 'X-Forwarded-For': '127.0.0.1, 203.0.113.9' })).status).toBe(401);
      expect((await scrape({}, 'POST')).status).toBe(405);
    } finally {
      await twofold.close();
    }

    const untokened = await startTestInstance({ TRUST_PROXY: '1' });
    try {
      expect((await fetch(`${untokened.url}/metrics`, { headers: { 'X-Forwarded-For': '203.0.113.9', Authorization: 'Bearer anything-at-all-anything-at-all-anything' } })).status).toBe(401);
    } finally {
      await untokened.close();
    }
  });

  it('counts requests by route group, sign-ins and second-factor checks by outcome, lockouts and e-mails — and no label names a person', async () => {
    const smtp = new TestSmtpServer();
    const twofold = await startTestInstance({
      SMTP_URL: await smtp.start(),
      SECOND_FACTOR_LOCKOUT_THRESHOLD: '3',
      PASSWORD_LOCKOUT_THRESHOLD: '2',
    });
    try {
      await twofold.app.organizations.create(OPERATOR, 'city', 'City');
      await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
      const ada = await twofold.app.users.create(OPERATOR, { email: 'ada@city.test', password: PASSWORD, orgs: [{ slug: 'city', role: 'member' }] });
      await twofold.app.clients.create(OPERATOR, { clientId: 'app', redirectUris: [REDIRECT_URI], firstParty: true });
      const rp: oidc.Configuration = await discover(twofold.url, 'app');
      const seen: string[] = [ada.email, ada.id, (await twofold.store.organizations.findBySlug('city'))!.id];
      /** The page, with the ids of its sign-in noted: none of them may show up in the metrics. */
      const noted = (page: Page) => {
        seen.push(...[...page.url.matchAll(/interaction\/([^/?]+)/g)].map((match) => match[1]!));
        return page;
      };
      const signIn = async (browser: Browser, password = PASSWORD, email = ada.email) =>
        noted(await signInWithPassword(browser, await startSignIn(rp), email, password));

      // Passwords: one wrong, then right, with the setup of the second factor.
      expect((await signIn(new Browser(twofold.url), 'not the password')).status).toBe(401);
      const first = new Browser(twofold.url);
      const { secret, landed } = await completeSetup(first, await signIn(first));
      expect(landed.url).toStartWith(REDIRECT_URI);

      // Passcodes: a wrong one, then a right one.
      const second = new Browser(twofold.url);
      const wrong = await submitPasscode(second, await signIn(second), '000000');
      const code = await codeAt(secret, 1);
      expect((await submitPasscode(second, wrong, code)).url).toStartWith(REDIRECT_URI);
      // The same one again is a replay; with two wrong ones after it, the third failure in a row locks the account.
      const third = new Browser(twofold.url);
      let challenge = await submitPasscode(third, await signIn(third), code);
      expect(challenge.html).toContain('That code was already used.');
      challenge = await submitPasscode(third, challenge, '000000');
      challenge = await submitPasscode(third, challenge, '000000');
      expect(challenge.html).toContain('Too many wrong codes were entered for this account, so it is locked until');
      await waitForLogLine(twofold, (line) => line.includes('"e-mail sent"') && line.includes('Someone entered your password'));

      // A password lockout, for an email with no account: two wrong passwords pause it, the third is refused.
      for (let attempt = 0; attempt < 3; attempt += 1) await signIn(new Browser(twofold.url), 'wrong', 'nobody@city.test');

      const text = await (await fetch(`${twofold.url}/metrics`)).text();
      const all = samples(text);
      expect({
        signIns: Object.fromEntries(SIGN_IN_OUTCOMES.map((outcome) => [outcome, valueOf(all, 'twofold_sign_ins_total', { outcome })])),
        totp: Object.fromEntries(SECOND_FACTOR_OUTCOMES.map((outcome) => [outcome, valueOf(all, 'twofold_second_factor_checks_total', { factor: 'totp', outcome })])),
        lockouts: Object.fromEntries(LOCKOUT_KINDS.map((kind) => [kind, valueOf(all, 'twofold_lockouts_total', { kind })])),
        queued: valueOf(all, 'twofold_emails_queued_total', { message: 'two-factor-enabled' }),
        sent: valueOf(all, 'twofold_emails_sent_total', { message: 'second-factor-failures' }),
      }).toStrictEqual({
        // ok: setup, second, third; invalid: the wrong password and two for nobody; locked: nobody's third.
        signIns: { ok: 3, invalid: 3, locked: 1, suspended: 0 },
        totp: { ok: 1, invalid: 2, replayed: 1, locked: 1, exhausted: 0, skipped_in_grace: 0, remembered: 0 },
        lockouts: { second_factor: 1, password: 1, address: 0 },
        queued: 1,
        sent: 1,
      });
      expect(valueOf(all, 'twofold_http_requests_total', { route: 'interaction', status: '200' })).toBeGreaterThan(0);
      expect(valueOf(all, 'twofold_http_request_duration_seconds_count', { route: 'authorization', status: '303' })).toBeGreaterThan(0);
      expect(valueOf(all, 'twofold_outbox_pending')).toBe(0);
      expect(valueOf(all, 'twofold_outbox_oldest_pending_age_seconds')).toBe(0);
      expect(valueOf(all, 'process_cpu_seconds_total')).toBeGreaterThan(0);

      // Every label of Twofold's metrics is from its fixed list; nothing anywhere names a person, an account or a sign-in.
      for (const sample of all.filter((candidate) => candidate.name.startsWith('twofold_'))) {
        for (const [label, value] of Object.entries(sample.labels)) {
          expect([sample.name, label, value, ALLOWED_LABELS[label]?.(value) ?? false]).toStrictEqual([sample.name, label, value, true]);
        }
      }
      expect(seen.length).toBeGreaterThan(3);
      for (const secret of [...seen, 'nobody@city.test']) expect(text).not.toContain(secret);
    } finally {
      await twofold.close();
      await smtp.close();
    }
  });
});
