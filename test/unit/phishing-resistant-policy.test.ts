import { describe, expect, it } from '@jest/globals';
import { reachedTwoFactorAcr, relyingPartyAsksForPhishingResistant, relyingPartyAsksForSecondFactor, sessionLevelOf } from '../../src/policy/acr-request.js';
import { ACR } from '../../src/policy/acr.js';
import {
  challengeOffer,
  confirmsFirstSetupByEmail,
  decideSecondFactor,
  keyDeadline,
  nextSecondFactorStep,
  type OrganizationFacts,
  type SecondFactorFacts,
  type SessionLevel,
} from '../../src/policy/second-factor.js';

/*
 * Phishing-resistant sign-in and the first set-up (docs/rules.md, "Phishing-resistant sign-in", "The
 * first set-up belongs to the person"), with the clock passed in. Every expected value is written out.
 */

const at = (iso: string) => new Date(`${iso}T00:00:00Z`);
const org = (facts: Partial<OrganizationFacts> = {}): OrganizationFacts => ({
  slug: 'city',
  forceTwoFactor: true,
  managesAccount: false,
  role: 'member',
  applyTo: 'all',
  enforcementStartedAt: at('2026-01-01'),
  joinedAt: at('2025-01-01'),
  gracePeriodDays: 14,
  rememberBrowserDays: 7,
  requiredFactor: 'security-key',
  keysRequiredSince: at('2026-03-01'),
  confirmSetupByEmail: true,
  ...facts,
});
const facts = (overrides: Partial<SecondFactorFacts> = {}): SecondFactorFacts => ({
  enrolled: true, siteMode: 'optional', organizations: [org()], relyingPartyAsks: false, siteAdmin: false, adminArea: false, ...overrides,
});

describe('the next step where a security key or passkey is required', () => {
  // [name, facts, has a key, session level, now, step]
  const rows: Array<[string, Partial<SecondFactorFacts>, boolean, SessionLevel, string, string]> = [
    ['an app-only member, before the key deadline: the app first', {}, false, 'password', '2026-03-05', 'challenge'],
    ['an app-only member who proved the app, before the key deadline: the interstitial for a key', {}, false, 'two-factor', '2026-03-05', 'grace'],
    ['an app-only member who proved the app, after the key deadline: a key must be added', {}, false, 'two-factor', '2026-03-20', 'setup'],
    ['a member with a key: the key is asked', {}, true, 'password', '2026-03-20', 'challenge'],
    ['a member with a key who proved it: nothing more', {}, true, 'phishing-resistant', '2026-03-20', 'none'],
    ['a member with a key whose session proved two factors otherwise (a recovery code): nothing more', {}, true, 'two-factor', '2026-03-20', 'none'],
    ['a remembered browser does not stand in while a key is still to be added', {}, false, 'remembered-browser', '2026-03-05', 'challenge'],
    ['a remembered browser stands in for a member who has a key', {}, true, 'remembered-browser', '2026-03-20', 'none'],
    ['a member without any factor: setup, in its grace period', { enrolled: false }, false, 'password', '2026-01-05', 'grace'],
    ['an organization that accepts any factor asks no key', { organizations: [org({ requiredFactor: 'any' })] }, false, 'two-factor', '2026-03-20', 'none'],
    ['owners only: a member is not held to keys', { organizations: [org({ applyTo: 'owners' })] }, false, 'two-factor', '2026-03-20', 'none'],
    ['a federated account its provider manages is not held to keys', { organizations: [org({ managesAccount: true })], enrolled: false }, false, 'password', '2026-03-20', 'none'],
    ['a relying party asks for phishing-resistant: a two-factor session with a key is asked for the key', { relyingPartyAsksPhishingResistant: true, organizations: [] }, true, 'two-factor', '2026-03-20', 'challenge'],
    ['a relying party asks for phishing-resistant: a key session passes', { relyingPartyAsksPhishingResistant: true, organizations: [] }, true, 'phishing-resistant', '2026-03-20', 'none'],
    ['a relying party asks for phishing-resistant: an app-only user proves the app, then adds a key at once', { relyingPartyAsksPhishingResistant: true, organizations: [] }, false, 'two-factor', '2026-03-05', 'setup'],
    ['a relying party asks for phishing-resistant: no grace even before the organization\'s key deadline', { relyingPartyAsksPhishingResistant: true }, false, 'two-factor', '2026-03-05', 'setup'],
    ['a relying party asks for phishing-resistant: a remembered browser never answers it', { relyingPartyAsksPhishingResistant: true, organizations: [] }, true, 'remembered-browser', '2026-03-05', 'challenge'],
    ['a relying party asks for phishing-resistant, nobody has a factor: setup at once', { relyingPartyAsksPhishingResistant: true, organizations: [], enrolled: false }, false, 'password', '2026-03-05', 'setup'],
  ];
  for (const [name, overrides, hasKey, level, now, step] of rows) {
    it(name, () => {
      const all = facts(overrides);
      expect(nextSecondFactorStep(decideSecondFactor(all), {
        enrolled: all.enrolled, hasKey, level, deadline: at('2026-01-15'), keyDeadline: keyDeadline(all.organizations), now: at(now),
      })).toBe(step);
    });
  }

  it('asks for the second factor when the relying party asks for phishing-resistant only', () => {
    expect(decideSecondFactor(facts({ enrolled: false, organizations: [], relyingPartyAsksPhishingResistant: true }))).toMatchObject({ required: true, reasons: ['relying-party'], keysRequired: true, phishingResistantAsked: true });
  });
});

describe('what the challenge offers', () => {
  // [name, keys required, phishing-resistant asked, has app, has key, offer]
  const rows: Array<[string, boolean, boolean, boolean, boolean, { app: boolean; key: boolean; recoveryCode: boolean }]> = [
    ['an app only, nothing more asked', false, false, true, false, { app: true, key: false, recoveryCode: true }],
    ['an app and a key, any factor accepted', false, false, true, true, { app: true, key: true, recoveryCode: true }],
    ['an app and a key, the organization requires keys: never the app', true, false, true, true, { app: false, key: true, recoveryCode: true }],
    ['an app only, the organization requires keys: the app, to prove who it is before adding a key', true, false, true, false, { app: true, key: false, recoveryCode: true }],
    ['a key, the relying party asks for phishing-resistant: the key alone, no recovery code', true, true, true, true, { app: false, key: true, recoveryCode: false }],
    ['no key, the relying party asks for phishing-resistant: the app or a code, then a key is added', true, true, true, false, { app: true, key: false, recoveryCode: true }],
  ];
  for (const [name, keysRequired, phishingResistantAsked, hasApp, hasKey, offer] of rows) {
    it(name, () => expect(challengeOffer({ keysRequired, phishingResistantAsked }, { hasApp, hasKey })).toStrictEqual(offer));
  }
});

describe('the deadline to add a security key or passkey', () => {
  const rows: Array<[string, Array<Partial<OrganizationFacts>>, string | null]> = [
    ['keys first required plus the grace period', [{}], '2026-03-15'],
    ['a member who joined after keys were required: joining plus the grace period', [{ joinedAt: at('2026-04-01') }], '2026-04-15'],
    ['keys required before enforcement started: the start counts', [{ keysRequiredSince: at('2025-12-01') }], '2026-01-15'],
    ['no grace period: at once', [{ gracePeriodDays: 0 }], '2026-03-01'],
    ['two organizations requiring keys: the earliest', [{ slug: 'a', gracePeriodDays: 30 }, { slug: 'b', keysRequiredSince: at('2026-03-10'), gracePeriodDays: 1 }], '2026-03-11'],
    ['an organization that accepts any factor sets none', [{ requiredFactor: 'any' }], null],
    ['an organization that does not enforce sets none', [{ forceTwoFactor: false }], null],
  ];
  for (const [name, organizations, expected] of rows) {
    it(name, () => expect(keyDeadline(organizations.map(org))?.toISOString().slice(0, 10) ?? null).toBe(expected));
  }
});

describe('a first set-up confirmed by e-mail', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
  // [name, organizations, site-wide, managed account, mailbox proven at, asked]
  const rows: Array<[string, Array<Partial<OrganizationFacts>>, boolean, boolean, Date | null, boolean]> = [
    ['an enforcing organization asks (the default)', [{}], false, false, null, true],
    ['an enforcing organization turned it off, the site-wide setting does not override it', [{ confirmSetupByEmail: false }], true, false, null, false],
    ['one of two enforcing organizations asks: enough', [{ slug: 'a', confirmSetupByEmail: false }, { slug: 'b' }], false, false, null, true],
    ['no organization holds the user: the site-wide setting decides (on)', [{ forceTwoFactor: false, confirmSetupByEmail: false }], true, false, null, true],
    ['no organization holds the user: the site-wide setting decides (off)', [], false, false, null, false],
    ['an account its organization\'s provider manages: never', [{}], true, true, null, false],
    ['the mailbox was proven by a link 10 minutes ago: not asked', [{}], true, false, minutesAgo(10), false],
    ['the mailbox was proven 31 minutes ago: asked', [{}], true, false, minutesAgo(31), true],
    ['a proof dated in the future counts for nothing', [{}], true, false, minutesAgo(-5), true],
  ];
  for (const [name, organizations, siteWide, managedAccount, mailboxProvenAt, asked] of rows) {
    it(name, () => expect(confirmsFirstSetupByEmail({ organizations: organizations.map(org), siteWide, managedAccount, mailboxProvenAt, now })).toBe(asked));
  }
});

describe('the phishing-resistant level in acr', () => {
  const rows: Array<[string, unknown, object | undefined, boolean, boolean]> = [
    ['acr_values phishing-resistant', ACR.phishingResistant, undefined, true, true],
    ['phishing-resistant or two-factor: two-factor will do', `${ACR.phishingResistant} ${ACR.twoFactor}`, undefined, false, true],
    ['phishing-resistant or an unknown value', `urn:other ${ACR.phishingResistant}`, undefined, true, true],
    ['two-factor', ACR.twoFactor, undefined, false, true],
    ['phishing-resistant or password: nothing is required', `${ACR.phishingResistant} ${ACR.password}`, undefined, false, false],
    ['an essential acr claim', undefined, { essential: true, value: ACR.phishingResistant }, true, true],
    ['a voluntary acr claim', undefined, { value: ACR.phishingResistant }, false, false],
    ['nothing', undefined, undefined, false, false],
  ];
  for (const [name, acrValues, claim, phishingResistant, secondFactor] of rows) {
    it(name, () => {
      expect(relyingPartyAsksForPhishingResistant(acrValues, claim)).toBe(phishingResistant);
      expect(relyingPartyAsksForSecondFactor(acrValues, claim)).toBe(secondFactor);
    });
  }

  it('is reached only with a key, and reported as the relying party named it', () => {
    expect(reachedTwoFactorAcr(undefined, true)).toBe(ACR.phishingResistant);
    expect(reachedTwoFactorAcr(ACR.twoFactor, true)).toBe(ACR.twoFactor);
    expect(reachedTwoFactorAcr(ACR.phishingResistant, true)).toBe(ACR.phishingResistant);
    expect(reachedTwoFactorAcr(ACR.phishingResistant, false)).toBe(ACR.twoFactor);
    expect(reachedTwoFactorAcr(`${ACR.phishingResistant} ${ACR.papeMultiFactor}`, false)).toBe(ACR.papeMultiFactor);
    expect([sessionLevelOf(ACR.phishingResistant), sessionLevelOf(ACR.twoFactor), sessionLevelOf(ACR.password)]).toStrictEqual(['phishing-resistant', 'two-factor', 'password']);
  });
});
