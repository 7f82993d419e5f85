import { describe, expect, it } from '@jest/globals';
import {
  daysLeft,
  decideSecondFactor,
  dueReminder,
  nextSecondFactorStep,
  rememberBrowserDays,
  rememberedUntil,
  setupDeadline,
  type OrganizationFacts,
  type SecondFactorFacts,
  type SessionLevel,
} from '../../src/policy/second-factor.js';

/*
 * Rolling enforcement out (docs/rules.md, "Rolling enforcement out", "Remembered browsers"): the
 * deadline, the interstitial, the reminders and remembered browsers, with the clock passed in.
 * Every expected date below is written out by hand.
 */

const at = (iso: string) => new Date(`${iso}T00:00:00Z`);

type Org = Partial<OrganizationFacts>;
const org = (facts: Org): OrganizationFacts => ({
  slug: 'city',
  forceTwoFactor: true,
  managesAccount: false,
  role: 'member',
  applyTo: 'all',
  enforcementStartedAt: at('2026-03-01'),
  joinedAt: at('2025-01-01'),
  gracePeriodDays: 14,
  rememberBrowserDays: 0,
  requiredFactor: 'any',
  keysRequiredSince: null,
  confirmSetupByEmail: true,
  ...facts,
});

describe('the setup deadline', () => {
  const rows: Array<[string, Org[], string | null]> = [
    ['enforcement start plus the grace period', [{}], '2026-03-15'],
    ['no grace period: the moment enforcement started', [{ gracePeriodDays: 0 }], '2026-03-01'],
    ['a member who joined after the switch-on: joining plus the grace period', [{ joinedAt: at('2026-04-10') }], '2026-04-24'],
    ['a member who joined before the switch-on: the switch-on counts', [{ joinedAt: at('2026-02-27') }], '2026-03-15'],
    ['several organizations: the earliest deadline wins', [{ slug: 'city', gracePeriodDays: 30 }, { slug: 'county', enforcementStartedAt: at('2026-03-10'), gracePeriodDays: 7 }], '2026-03-17'],
    ['several organizations, the other way round', [{ slug: 'city', gracePeriodDays: 3 }, { slug: 'county', enforcementStartedAt: at('2026-03-10'), gracePeriodDays: 7 }], '2026-03-04'],
    ['an organization that does not enforce sets no deadline', [{ slug: 'city', forceTwoFactor: false, gracePeriodDays: 1 }, { slug: 'county', gracePeriodDays: 60 }], '2026-04-30'],
    ['no enforcing organization: no deadline', [{ forceTwoFactor: false }], null],
    ['an organization whose provider manages the account sets none', [{ managesAccount: true }], null],
    ['owners only: a member has no deadline', [{ applyTo: 'owners', role: 'member' }], null],
    ['owners only: an owner has one', [{ applyTo: 'owners', role: 'owner' }], '2026-03-15'],
    ['owners only in one organization, all members in another', [{ slug: 'city', applyTo: 'owners', gracePeriodDays: 1 }, { slug: 'county', gracePeriodDays: 20 }], '2026-03-21'],
    // Lowering the grace period is computed from the current settings: the deadline it gave moves closer at once.
    ['a lowered grace period (30 to 5 days)', [{ gracePeriodDays: 5 }], '2026-03-06'],
    // Switched on 1 March, off, and on again 20 March: the first switch-on is kept, so no later deadline.
    ['enforcement switched off and on again keeps the first start', [{ enforcementStartedAt: at('2026-03-01') }], '2026-03-15'],
  ];
  for (const [name, organizations, expected] of rows) {
    it(name, () => {
      const deadline = setupDeadline(organizations.map(org));
      expect(deadline?.toISOString().slice(0, 10) ?? null).toBe(expected);
    });
  }

  it('never moves later when the grace period is lowered, over many grace periods', () => {
    for (let before = 0; before <= 90; before += 1) {
      for (let after = 0; after <= before; after += 1) {
        const old = setupDeadline([org({ gracePeriodDays: before })])!;
        const lowered = setupDeadline([org({ gracePeriodDays: after })])!;
        expect(lowered.getTime()).toBeLessThanOrEqual(old.getTime());
      }
    }
  });

  it('counts the days left, a part of a day as one', () => {
    expect(daysLeft(at('2026-03-15'), at('2026-03-01'))).toBe(14);
    expect(daysLeft(at('2026-03-15'), new Date('2026-03-14T23:00:00Z'))).toBe(1);
    expect(daysLeft(at('2026-03-15'), new Date('2026-03-15T00:00:01Z'))).toBe(0);
  });
});

describe('the next step, with a grace period', () => {
  const facts = (overrides: Partial<SecondFactorFacts> = {}): SecondFactorFacts => ({
    enrolled: false, siteMode: 'optional', organizations: [org({})], relyingPartyAsks: false, siteAdmin: false, adminArea: false, ...overrides,
  });
  const rows: Array<[string, Partial<SecondFactorFacts>, string, SessionLevel, string]> = [
    ['before the deadline: the interstitial', {}, '2026-03-10', 'password', 'grace'],
    ['a second before the deadline: still the interstitial', {}, '2026-03-14', 'password', 'grace'],
    ['at the deadline: setup is forced', {}, '2026-03-15', 'password', 'setup'],
    ['after the deadline: setup is forced', {}, '2026-04-01', 'password', 'setup'],
    ['the relying party asks for two-factor: setup at once, grace or not', { relyingPartyAsks: true }, '2026-03-10', 'password', 'setup'],
    ['the site mode requires it: no grace', { siteMode: 'required' }, '2026-03-10', 'password', 'setup'],
    ['a site admin in the admin area: no grace', { siteAdmin: true, adminArea: true }, '2026-03-10', 'password', 'setup'],
    ['enrolled: the challenge, grace has nothing to do with it', { enrolled: true }, '2026-03-10', 'password', 'challenge'],
    ['an owners-only organization does not hold a member', { organizations: [org({ applyTo: 'owners' })] }, '2026-04-01', 'password', 'none'],
    ['an owners-only organization holds an owner', { organizations: [org({ applyTo: 'owners', role: 'owner' })] }, '2026-04-01', 'password', 'setup'],
    ['a remembered browser stands in for an organization\'s rule', { enrolled: true }, '2026-03-10', 'remembered-browser', 'none'],
    ['a remembered browser stands in for the site mode', { enrolled: true, siteMode: 'required', organizations: [] }, '2026-03-10', 'remembered-browser', 'none'],
    ['a remembered browser never answers a relying party\'s request', { enrolled: true, relyingPartyAsks: true }, '2026-03-10', 'remembered-browser', 'challenge'],
    ['a remembered browser never opens the admin area to a site admin', { enrolled: true, siteAdmin: true, adminArea: true }, '2026-03-10', 'remembered-browser', 'challenge'],
    ['a remembered browser never opens the admin area to an owner of an enforcing organization', { enrolled: true, organizations: [org({ role: 'owner' })], adminArea: true }, '2026-03-10', 'remembered-browser', 'challenge'],
    ['a remembered browser never opens the admin area to an owner who turned 2FA on herself', { enrolled: true, organizations: [org({ role: 'owner', forceTwoFactor: false })], adminArea: true }, '2026-03-10', 'remembered-browser', 'challenge'],
    ['a remembered browser still opens the account page and applications to that owner', { enrolled: true, organizations: [org({ role: 'owner' })] }, '2026-03-10', 'remembered-browser', 'none'],
    ['two-factor session: nothing more', { enrolled: true, relyingPartyAsks: true }, '2026-03-10', 'two-factor', 'none'],
  ];
  for (const [name, overrides, now, level, step] of rows) {
    it(name, () => {
      const all = facts(overrides);
      expect(nextSecondFactorStep(decideSecondFactor(all), { enrolled: all.enrolled, hasKey: false, level, deadline: setupDeadline(all.organizations), keyDeadline: null, now: at(now) })).toBe(step);
    });
  }
});

describe('reminders before the deadline', () => {
  const deadline = at('2026-03-15');
  const rows: Array<[string, Date, string | null]> = [
    ['more than 7 days before: none yet', at('2026-03-07'), null],
    ['exactly 7 days before: the 7-day reminder', at('2026-03-08'), '7-days'],
    ['2 days before: still the 7-day one (sent once, by its key)', at('2026-03-13'), '7-days'],
    ['exactly 1 day before: the 1-day reminder', at('2026-03-14'), '1-day'],
    ['an hour before: the 1-day reminder', new Date('2026-03-14T23:00:00Z'), '1-day'],
    ['at the deadline: none', deadline, null],
    ['after the deadline: none', at('2026-03-20'), null],
  ];
  for (const [name, now, reminder] of rows) it(name, () => expect(dueReminder(deadline, now)).toBe(reminder));
});

describe('how long a browser may be remembered', () => {
  const rows: Array<[string, Org[], number, number]> = [
    ['no organization holds the user: the site-wide cap decides', [], 30, 30],
    ['one organization allows 14 days', [{ rememberBrowserDays: 14 }], 30, 14],
    ['the site-wide cap bounds an organization', [{ rememberBrowserDays: 60 }], 30, 30],
    ['the strictest organization wins', [{ slug: 'city', rememberBrowserDays: 20 }, { slug: 'county', rememberBrowserDays: 7 }], 30, 7],
    ['one organization saying 0 means never', [{ slug: 'city', rememberBrowserDays: 20 }, { slug: 'county', rememberBrowserDays: 0 }], 30, 0],
    ['an organization that does not enforce has no say', [{ slug: 'city', rememberBrowserDays: 20 }, { slug: 'county', forceTwoFactor: false, rememberBrowserDays: 0 }], 30, 20],
    ['an owners-only organization has no say for a member', [{ slug: 'city', applyTo: 'owners', rememberBrowserDays: 0 }], 30, 30],
    ['the site-wide cap 0 turns it off', [{ rememberBrowserDays: 14 }], 0, 0],
  ];
  for (const [name, organizations, max, days] of rows) it(name, () => expect(rememberBrowserDays(organizations.map(org), max)).toBe(days));

  it('shortens a browser remembered before the days were lowered, at once', () => {
    expect(rememberedUntil(at('2026-03-01'), at('2026-03-31'), 30).toISOString().slice(0, 10)).toBe('2026-03-31');
    expect(rememberedUntil(at('2026-03-01'), at('2026-03-31'), 7).toISOString().slice(0, 10)).toBe('2026-03-08');
    expect(rememberedUntil(at('2026-03-01'), at('2026-03-31'), 0).toISOString().slice(0, 10)).toBe('2026-03-01');
    // Raising the days later does not lengthen what was remembered under fewer.
    expect(rememberedUntil(at('2026-03-01'), at('2026-03-08'), 90).toISOString().slice(0, 10)).toBe('2026-03-08');
  });
});
