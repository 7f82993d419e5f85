import { describe, expect, it } from '@jest/globals';
import type { TwoFactorMode } from '../../config/index.js';
import { isTwoFactorAcr, reachedTwoFactorAcr, relyingPartyAsksForSecondFactor } from '../../src/policy/acr-request.js';
import {
  canActivate,
  canDeactivate,
  decideSecondFactor,
  nextSecondFactorStep,
  upstreamReachesTwoFactor,
  type OrganizationFacts,
  type SecondFactorFacts,
  type SecondFactorReason,
} from '../../src/policy/second-factor.js';
import { ACR } from '../../src/policy/acr.js';

/** `managesAccount`: the organization is federated and its provider manages this user's account. */
const organization = (slug: string, forceTwoFactor: boolean, managesAccount = false): OrganizationFacts => ({
  slug,
  forceTwoFactor,
  managesAccount,
  role: 'member',
  applyTo: 'all',
  enforcementStartedAt: forceTwoFactor ? new Date('2026-01-01T00:00:00Z') : null,
  joinedAt: new Date('2025-06-01T00:00:00Z'),
  gracePeriodDays: 0,
  rememberBrowserDays: 0,
  requiredFactor: 'any',
  keysRequiredSince: null,
  confirmSetupByEmail: true,
});
const city = (forceTwoFactor: boolean, managesAccount = false) => organization('city', forceTwoFactor, managesAccount);
const county = (forceTwoFactor: boolean, managesAccount = false) => organization('county', forceTwoFactor, managesAccount);

type Facts = Omit<SecondFactorFacts, 'siteAdmin' | 'adminArea'> & Partial<Pick<SecondFactorFacts, 'siteAdmin' | 'adminArea'>>;
const decide = (facts: Facts) => decideSecondFactor({ siteAdmin: false, adminArea: false, ...facts });

describe('is the second factor required? (docs/rules.md)', () => {
  const rows: Array<[string, Facts, SecondFactorReason[]]> = [
    ['nobody asks', { enrolled: false, siteMode: 'optional', organizations: [], relyingPartyAsks: false }, []],
    ['the user activated it', { enrolled: true, siteMode: 'optional', organizations: [], relyingPartyAsks: false }, ['enrolled']],
    ['site mode off does not stop an enrolled user', { enrolled: true, siteMode: 'off', organizations: [], relyingPartyAsks: false }, ['enrolled']],
    ['site mode required', { enrolled: false, siteMode: 'required', organizations: [], relyingPartyAsks: false }, ['site-required']],
    ['site mode off', { enrolled: false, siteMode: 'off', organizations: [city(false)], relyingPartyAsks: false }, []],
    ['an organization forces it', { enrolled: false, siteMode: 'optional', organizations: [city(true)], relyingPartyAsks: false }, ['organization']],
    ['an organization forces it even with site mode off', { enrolled: false, siteMode: 'off', organizations: [city(true)], relyingPartyAsks: false }, ['organization']],
    ['either of two organizations forces it (city and county)', { enrolled: false, siteMode: 'optional', organizations: [city(false), county(true)], relyingPartyAsks: false }, ['organization']],
    ['neither of two organizations forces it', { enrolled: false, siteMode: 'optional', organizations: [city(false), county(false)], relyingPartyAsks: false }, []],
    ['an organization whose provider manages the account leaves it to that provider', { enrolled: false, siteMode: 'optional', organizations: [city(true, true)], relyingPartyAsks: false }, []],
    ['an enforcing organization applies to its members with a password here, federated or not', { enrolled: false, siteMode: 'optional', organizations: [city(true, false)], relyingPartyAsks: false }, ['organization']],
    ['a managing organization does not exempt from another that forces it', { enrolled: false, siteMode: 'optional', organizations: [city(true, true), county(true)], relyingPartyAsks: false }, ['organization']],
    ['a managing organization does not exempt from site mode', { enrolled: false, siteMode: 'required', organizations: [city(true, true)], relyingPartyAsks: false }, ['site-required']],
    ['a managing organization does not exempt from the user\'s own choice', { enrolled: true, siteMode: 'optional', organizations: [city(true, true)], relyingPartyAsks: false }, ['enrolled']],
    ['the relying party asks', { enrolled: false, siteMode: 'off', organizations: [], relyingPartyAsks: true }, ['relying-party']],
    ['a site admin entering the admin area', { enrolled: false, siteMode: 'off', organizations: [], relyingPartyAsks: false, siteAdmin: true, adminArea: true }, ['site-admin']],
    ['a site admin signing in to an application', { enrolled: false, siteMode: 'optional', organizations: [], relyingPartyAsks: false, siteAdmin: true, adminArea: false }, []],
    ['an owner entering the admin area (her organization decides)', { enrolled: false, siteMode: 'optional', organizations: [city(false)], relyingPartyAsks: false, siteAdmin: false, adminArea: true }, []],
    ['everything at once', { enrolled: true, siteMode: 'required', organizations: [city(true)], relyingPartyAsks: true, siteAdmin: true, adminArea: true }, ['enrolled', 'site-required', 'organization', 'relying-party', 'site-admin']],
  ];
  for (const [name, facts, reasons] of rows) {
    it(name, () => {
      const decision = decide(facts);
      expect(decision.reasons).toStrictEqual(reasons);
      expect(decision.required).toBe(reasons.length > 0);
    });
  }

  /*
   * Over every combination of the inputs, two properties that do not restate the rule: with no reason
   * at all nothing is required, and the rule is monotone — making any input stronger (enrolling, a
   * stricter site mode, the relying party asking, becoming a site admin, entering the admin area, an
   * organization forcing it) never lifts the requirement.
   */
  const organizationSets: OrganizationFacts[][] = [
    [], [city(false)], [city(true)], [city(true, true)], [city(false, true)], [city(true, true), county(true)], [city(false), county(true)], [city(true), county(true)],
  ];
  const everyCombination = (): SecondFactorFacts[] => {
    const all: SecondFactorFacts[] = [];
    for (const enrolled of [false, true]) {
      for (const siteMode of ['off', 'optional', 'required'] as const) {
        for (const organizations of organizationSets) {
          for (const relyingPartyAsks of [false, true]) {
            for (const siteAdmin of [false, true]) {
              for (const adminArea of [false, true]) all.push({ enrolled, siteMode, organizations, relyingPartyAsks, siteAdmin, adminArea });
            }
          }
        }
      }
    }
    return all;
  };

  it('requires nothing without a reason, over every combination of the inputs', () => {
    const combinations = everyCombination();
    expect(combinations).toHaveLength(384);
    const withoutReason = combinations.filter((facts) => !facts.enrolled && facts.siteMode !== 'required' && !facts.relyingPartyAsks && !(facts.siteAdmin && facts.adminArea)
      && facts.organizations.every((organization) => !organization.forceTwoFactor || organization.managesAccount));
    expect(withoutReason.length).toBeGreaterThan(0);
    for (const facts of withoutReason) expect([facts, decideSecondFactor(facts).required]).toStrictEqual([facts, false]);
  });

  it('never lifts the requirement when an input gets stronger, over every combination of the inputs', () => {
    const stronger = (facts: SecondFactorFacts): SecondFactorFacts[] => [
      { ...facts, enrolled: true },
      { ...facts, siteMode: 'required' },
      { ...facts, relyingPartyAsks: true },
      { ...facts, siteAdmin: true },
      { ...facts, adminArea: true },
      { ...facts, organizations: [...facts.organizations, organization('another', true)] },
      { ...facts, organizations: facts.organizations.map((organization) => ({ ...organization, forceTwoFactor: true })) },
    ];
    let checked = 0;
    for (const facts of everyCombination()) {
      if (!decideSecondFactor(facts).required) continue;
      for (const more of stronger(facts)) {
        expect([more, decideSecondFactor(more).required]).toStrictEqual([more, true]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('names the organizations that force it', () => {
    expect(decide({ enrolled: false, siteMode: 'optional', organizations: [city(true, true), county(true)], relyingPartyAsks: false }).enforcingOrganizations).toStrictEqual(['county']);
  });
});

describe('the next step of a sign-in', () => {
  const required = decide({ enrolled: false, siteMode: 'required', organizations: [], relyingPartyAsks: false });
  const notRequired = decide({ enrolled: false, siteMode: 'optional', organizations: [], relyingPartyAsks: false });
  const rows: Array<[string, boolean, boolean, boolean, string]> = [
    ['not required', false, false, false, 'none'],
    ['required, not set up', true, false, false, 'setup'],
    ['required, not set up here, the session reached two-factor at a provider a site admin trusts', true, false, true, 'none'],
    ['required, set up, session without a second factor', true, true, false, 'challenge'],
    ['required, set up, session already passed the second factor', true, true, true, 'none'],
  ];
  for (const [name, isRequired, enrolled, sessionHas, step] of rows) {
    it(name, () => expect(nextSecondFactorStep(isRequired ? required : notRequired, { enrolled, hasKey: false, level: sessionHas ? 'two-factor' : 'password', deadline: null, keyDeadline: null, now: new Date() })).toBe(step));
  }
});

describe('what the account page offers', () => {
  const rows: Array<[string, boolean, TwoFactorMode, OrganizationFacts[], boolean, boolean, boolean]> = [
    ['optional mode, not enrolled', false, 'optional', [], false, true, false],
    ['off mode, not enrolled: cannot self-activate', false, 'off', [], false, false, false],
    ['required mode, not enrolled: activation is the sign-in setup', false, 'required', [], false, true, false],
    ['optional, enrolled by choice: may deactivate', true, 'optional', [], false, false, true],
    ['off mode, enrolled: may deactivate', true, 'off', [], false, false, true],
    ['enrolled, site requires it: may not deactivate', true, 'required', [], false, false, false],
    ['enrolled, an organization forces it: may not deactivate', true, 'optional', [city(true)], false, false, false],
    ['enrolled, only an organization whose provider manages the account forces it: may deactivate', true, 'optional', [city(true, true)], false, false, true],
    ['enrolled site admin: may not deactivate (the admin area needs it)', true, 'optional', [], true, false, false],
  ];
  for (const [name, enrolled, siteMode, organizations, siteAdmin, activate, deactivate] of rows) {
    it(name, () => {
      expect(canActivate({ enrolled, siteMode })).toBe(activate);
      expect(canDeactivate({ enrolled, siteMode, organizations, siteAdmin })).toBe(deactivate);
    });
  }
});

describe('did the relying party ask for two-factor sign-in?', () => {
  const rows: Array<[string, unknown, object | undefined, boolean]> = [
    ['nothing', undefined, undefined, false],
    ['acr_values two-factor', ACR.twoFactor, undefined, true],
    ['acr_values PAPE multi-factor', ACR.papeMultiFactor, undefined, true],
    ['acr_values password', ACR.password, undefined, false],
    ['acr_values password or two-factor', `${ACR.password} ${ACR.twoFactor}`, undefined, false],
    ['acr_values unknown or two-factor', `urn:other ${ACR.twoFactor}`, undefined, true],
    ['acr_values unknown only', 'urn:other', undefined, false],
    ['essential acr claim value', undefined, { essential: true, value: ACR.twoFactor }, true],
    ['essential acr claim values', undefined, { essential: true, values: [ACR.papeMultiFactor] }, true],
    ['voluntary acr claim', undefined, { value: ACR.twoFactor }, false],
    ['malformed claim values', undefined, { essential: true, values: [42, null] }, false],
  ];
  for (const [name, acrValues, claim, expected] of rows) {
    it(name, () => expect(relyingPartyAsksForSecondFactor(acrValues, claim)).toBe(expected));
  }

  it('reports the two-factor level the relying party named', () => {
    expect(reachedTwoFactorAcr(ACR.papeMultiFactor)).toBe(ACR.papeMultiFactor);
    expect(reachedTwoFactorAcr(undefined)).toBe(ACR.twoFactor);
    expect(reachedTwoFactorAcr(ACR.password)).toBe(ACR.twoFactor);
  });
});

describe('did an upstream sign-in reach the two-factor level here?', () => {
  const rows: Array<[string, string[], boolean, boolean, boolean]> = [
    ['untrusted provider reporting mfa', ['pwd', 'mfa'], false, false, false],
    ['trusted provider reporting mfa', ['pwd', 'mfa'], true, false, true],
    ['trusted provider reporting a hardware key', ['hwk'], true, false, true],
    ['trusted provider reporting only a password', ['pwd'], true, false, false],
    ['trusted provider, but the account is a site admin\'s', ['pwd', 'mfa'], true, true, false],
    ['untrusted provider, site admin', ['otp', 'mfa'], false, true, false],
  ];
  for (const [name, amr, trusted, siteAdmin, expected] of rows) {
    it(name, () => expect(upstreamReachesTwoFactor(amr, trusted, siteAdmin)).toBe(expected));
  }

  it('counts a session as two-factor only by its acr', () => {
    expect(isTwoFactorAcr(ACR.twoFactor)).toBe(true);
    expect(isTwoFactorAcr(ACR.papeMultiFactor)).toBe(true);
    expect(isTwoFactorAcr(ACR.password)).toBe(false);
    expect(isTwoFactorAcr(undefined)).toBe(false);
    expect(isTwoFactorAcr(['urn:twofold:acr:two-factor'])).toBe(false);
  });
});
