import { describe, expect, it } from '@jest/globals';
import { isLoopback } from '../../src/http/metrics.js';
import { loggedPath } from '../../src/http/observe-requests.js';
import { routeGroup } from '../../src/http/route-groups.js';
import { afterFailedAttempt, GIVE_UP_AFTER_MS } from '../../src/mail/retry-policy.js';

describe('route groups', () => {
  const cases: Array<[string, string]> = [
    ['/healthz', 'healthz'],
    ['/readyz', 'readyz'],
    ['/metrics', 'metrics'],
    ['/static/twofold.css', 'static'],
    ['/interaction/cpb4jb_DiXeSzZGGeOZ/login/challenge', 'interaction'],
    ['/account', 'account'],
    ['/account/invitations', 'account'],
    ['/accounts', 'other'],
    ['/admin/api/organizations/city/members/0b6f0a6e-2f5b-4c8a-9a51-1f0c9f3f8a11', 'admin_api'],
    ['/admin/site/users/0b6f0a6e-2f5b-4c8a-9a51-1f0c9f3f8a11', 'admin'],
    ['/admin', 'admin'],
    ['/invitation/Q_wFa1fcJ0byiAUBUDz0eS2ol7QBeGv34D2FyE9381k', 'invitation'],
    ['/federation/county/callback', 'federation'],
    ['/demo', 'demo'],
    ['/.well-known/openid-configuration', 'discovery'],
    ['/auth', 'authorization'],
    ['/auth/cpb4jb_DiXeSzZGGeOZ', 'authorization'],
    ['/authorize', 'other'],
    ['/token', 'token'],
    ['/token/revocation', 'revocation'],
    ['/token/introspection', 'introspection'],
    ['/jwks', 'jwks'],
    ['/me', 'userinfo'],
    ['/session/end/confirm', 'end_session'],
    ['/request', 'pushed_authorization'],
    ['/', 'other'],
    ['/wp-login.php', 'other'],
  ];
  for (const [path, group] of cases) {
    it(`${path} is ${group}`, () => expect(routeGroup(path)).toBe(group));
  }
});

describe('the request log\'s path', () => {
  it('replaces token segments by a digest, the same for the same token, and keeps ids', () => {
    const invitation = loggedPath('/invitation/Q_wFa1fcJ0byiAUBUDz0eS2ol7QBeGv34D2FyE9381k');
    expect(invitation).toMatch(/^\/invitation\/\[redacted:[0-9a-f]{10}\]$/);
    expect(loggedPath('/invitation/Q_wFa1fcJ0byiAUBUDz0eS2ol7QBeGv34D2FyE9381k/accept')).toBe(`${invitation}/accept`);
    expect(loggedPath('/invitation/R_wFa1fcJ0byiAUBUDz0eS2ol7QBeGv34D2FyE9381k')).not.toBe(invitation);
    // An interaction's uid is also its cookie's value: the steps of one sign-in share a digest instead.
    const setup = loggedPath('/interaction/cpb4jb_DiXeSzZGGeOZ-jdaSHSc0DtgWIyZpMcZdxDG/setup');
    expect(setup).toMatch(/^\/interaction\/\[redacted:[0-9a-f]{10}\]\/setup$/);
    expect(loggedPath('/auth/cpb4jb_DiXeSzZGGeOZ-jdaSHSc0DtgWIyZpMcZdxDG')).toBe(setup.replace('/interaction/', '/auth/').replace('/setup', ''));
    // Also under a route added later (a password reset link).
    expect(loggedPath('/reset/cpb4jb_DiXeSzZGGeOZ-jdaSHSc0DtgWIyZpMcZdxDG')).toMatch(/^\/reset\/\[redacted:/);
    expect(loggedPath('/admin/site/users/0b6f0a6e-2f5b-4c8a-9a51-1f0c9f3f8a11')).toBe('/admin/site/users/0b6f0a6e-2f5b-4c8a-9a51-1f0c9f3f8a11');
    expect(loggedPath('/static/twofold.css')).toBe('/static/twofold.css');
  });
});

describe('loopback', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true], ['127.8.9.10', true], ['::1', true], ['::ffff:127.0.0.1', true],
    ['10.0.0.1', false], ['203.0.113.9', false], ['::ffff:203.0.113.9', false], ['::', false], ['fe80::1', false], ['', false], ['localhost', false],
  ];
  for (const [address, loopback] of cases) {
    it(`${address || '(none)'} is ${loopback ? '' : 'not '}loopback`, () => expect(isLoopback(address)).toBe(loopback));
  }
});

describe('mail retries', () => {
  const queued = new Date('2026-03-01T08:00:00.000Z');
  const giveUpAt = new Date(queued.getTime() + GIVE_UP_AFTER_MS);
  const at = (seconds: number) => new Date(queued.getTime() + seconds * 1000);
  const cases: Array<[attempts: number, nowSeconds: number, next: string]> = [
    [1, 0, 'retry at 30 s'],
    [2, 30, 'retry at 90 s'],
    [3, 90, 'retry at 210 s'],
    [8, 4000, 'retry at 7600 s'],
    [20, 40_000, 'retry at 43600 s'],
    [30, 85_000, 'retry at 86400 s'],
    [31, 86_400, 'give up'],
    [1, 90_000, 'give up'],
  ];
  for (const [attempts, now, next] of cases) {
    it(`after attempt ${attempts} at ${now} s: ${next}`, () => {
      const after = afterFailedAttempt(attempts, at(now), giveUpAt, 30_000);
      expect(after.kind === 'give-up' ? 'give up' : `retry at ${(after.at.getTime() - queued.getTime()) / 1000} s`).toBe(next);
    });
  }
});
