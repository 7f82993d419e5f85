import { describe, expect, it } from '@jest/globals';
import type { TwoFactorMode } from '../../config/index.js';
import { reachedTwoFactorAcr, relyingPartyAsksForSecondFactor } from '../../src/policy/acr-request.js';
import {
  canActivate,
  canDeactivate,
  decideSecondFactor,
  nextSecondFactorStep,
  type OrganizationFacts,
  type SecondFactorReason,
} from '../../src/policy/second-factor.js';
import { ACR } from '../../src/provider/acr.js';

const city = (forceTwoFactor: boolean, federated = false): OrganizationFacts => ({ slug: 'city', forceTwoFactor, federated });
const county = (forceTwoFactor: boolean, federated = false): OrganizationFacts => ({ slug: 'county', forceTwoFactor, federated });

describe('is the second factor required? (SPEC 1.1)', () => {
  const rows: Array<[string, { enrolled: boolean; siteMode: TwoFactorMode; organizations: OrganizationFacts[]; relyingPartyAsks: boolean }, SecondFactorReason[]]> = [
    ['nobody asks', { enrolled: false, siteMode: 'optional', organizations: [], relyingPartyAsks: false }, []],
    ['the user activated it', { enrolled: true, siteMode: 'optional', organizations: [], relyingPartyAsks: false }, ['enrolled']],
    ['site mode off does not stop an enrolled user', { enrolled: true, siteMode: 'off', organizations: [], relyingPartyAsks: false }, ['enrolled']],
    ['site mode required', { enrolled: false, siteMode: 'required', organizations: [], relyingPartyAsks: false }, ['site-required']],
    ['site mode off', { enrolled: false, siteMode: 'off', organizations: [city(false)], relyingPartyAsks: false }, []],
    ['an organization forces it', { enrolled: false, siteMode: 'optional', organizations: [city(true)], relyingPartyAsks: false }, ['organization']],
    ['an organization forces it even with site mode off', { enrolled: false, siteMode: 'off', organizations: [city(true)], relyingPartyAsks: false }, ['organization']],
    ['either of two organizations forces it (city and county)', { enrolled: false, siteMode: 'optional', organizations: [city(false), county(true)], relyingPartyAsks: false }, ['organization']],
    ['neither of two organizations forces it', { enrolled: false, siteMode: 'optional', organizations: [city(false), county(false)], relyingPartyAsks: false }, []],
    ['a federated organization is exempt', { enrolled: false, siteMode: 'optional', organizations: [city(true, true)], relyingPartyAsks: false }, []],
    ['federated and local enforcing organizations', { enrolled: false, siteMode: 'optional', organizations: [city(true, true), county(true)], relyingPartyAsks: false }, ['organization']],
    ['a federated organization does not exempt from site mode', { enrolled: false, siteMode: 'required', organizations: [city(true, true)], relyingPartyAsks: false }, ['site-required']],
    ['the relying party asks', { enrolled: false, siteMode: 'off', organizations: [], relyingPartyAsks: true }, ['relying-party']],
    ['everything at once', { enrolled: true, siteMode: 'required', organizations: [city(true)], relyingPartyAsks: true }, ['enrolled', 'site-required', 'organization', 'relying-party']],
  ];
  for (const [name, facts, reasons] of rows) {
    it(name, () => {
      const decision = decideSecondFactor(facts);
      expect(decision.reasons).toStrictEqual(reasons);
      expect(decision.required).toBe(reasons.length > 0);
    });
  }

  it('holds over every combination of the four inputs', () => {
    const organizationSets: OrganizationFacts[][] = [
      [], [city(false)], [city(true)], [city(true, true)], [city(false, true)], [city(true, true), county(true)], [city(false), county(true)], [city(true), county(true)],
    ];
    let combinations = 0;
    for (const enrolled of [false, true]) {
      for (const siteMode of ['off', 'optional', 'required'] as const) {
        for (const organizations of organizationSets) {
          for (const relyingPartyAsks of [false, true]) {
            const localEnforcing = organizations.some((organization) => organization.forceTwoFactor && !organization.federated);
            const expected = enrolled || siteMode === 'required' || localEnforcing || relyingPartyAsks;
            const facts = { enrolled, siteMode, organizations, relyingPartyAsks };
            expect([facts, decideSecondFactor(facts).required]).toStrictEqual([facts, expected]);
            combinations += 1;
          }
        }
      }
    }
    expect(combinations).toBe(96);
  });

  it('names the organizations that force it', () => {
    expect(decideSecondFactor({ enrolled: false, siteMode: 'optional', organizations: [city(true, true), county(true)], relyingPartyAsks: false }).enforcingOrganizations).toStrictEqual(['county']);
  });
});

describe('the next step of a sign-in', () => {
  const required = decideSecondFactor({ enrolled: false, siteMode: 'required', organizations: [], relyingPartyAsks: false });
  const notRequired = decideSecondFactor({ enrolled: false, siteMode: 'optional', organizations: [], relyingPartyAsks: false });
  const rows: Array<[string, boolean, boolean, boolean, string]> = [
    ['not required', false, false, false, 'none'],
    ['required, not set up', true, false, false, 'setup'],
    ['required, not set up here, the session has a second factor from the organization\'s provider', true, false, true, 'none'],
    ['required, set up, session without a second factor', true, true, false, 'challenge'],
    ['required, set up, session already passed the second factor', true, true, true, 'none'],
  ];
  for (const [name, isRequired, enrolled, sessionHas, step] of rows) {
    it(name, () => expect(nextSecondFactorStep(isRequired ? required : notRequired, enrolled, sessionHas)).toBe(step));
  }
});

describe('what the account page offers', () => {
  const rows: Array<[string, boolean, TwoFactorMode, OrganizationFacts[], boolean, boolean]> = [
    ['optional mode, not enrolled', false, 'optional', [], true, false],
    ['off mode, not enrolled: cannot self-activate', false, 'off', [], false, false],
    ['required mode, not enrolled: activation is the sign-in setup', false, 'required', [], true, false],
    ['optional, enrolled by choice: may deactivate', true, 'optional', [], false, true],
    ['off mode, enrolled: may deactivate', true, 'off', [], false, true],
    ['enrolled, site requires it: may not deactivate', true, 'required', [], false, false],
    ['enrolled, an organization forces it: may not deactivate', true, 'optional', [city(true)], false, false],
    ['enrolled, only a federated organization forces it: may deactivate', true, 'optional', [city(true, true)], false, true],
  ];
  for (const [name, enrolled, siteMode, organizations, activate, deactivate] of rows) {
    it(name, () => {
      expect(canActivate({ enrolled, siteMode })).toBe(activate);
      expect(canDeactivate({ enrolled, siteMode, organizations })).toBe(deactivate);
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
