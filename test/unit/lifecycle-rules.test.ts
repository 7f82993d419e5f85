import { describe, expect, it } from '@jest/globals';
import { parseReason, pseudonymOf, REASON_MAX_LENGTH } from '../../src/application/account-lifecycle.js';
import { applicationsOf } from '../../src/application/sign-outs.js';
import { ValidationError } from '../../src/errors.js';
import { organizationSignIn, requestedOrganizations } from '../../src/policy/organization-scope.js';
import { pseudonymizedDetails } from '../../src/store/pseudonymized-details.js';

describe('the organizations a scope asks to sign in for', () => {
  const cases: Array<[string | undefined, string[]]> = [
    [undefined, []],
    ['', []],
    ['openid email organizations', []],
    ['openid organization:parks', ['parks']],
    ['organization:parks openid organization:parks', ['parks']],
    ['organization:county organization:parks', ['county', 'parks']],
    ['organization: organizationparks organizations:x', ['']],
  ];
  for (const [scope, slugs] of cases) {
    it(`${JSON.stringify(scope)} → ${JSON.stringify(slugs)}`, () => expect(requestedOrganizations(scope)).toStrictEqual(slugs));
  }
  it('reads a set of scope values as well as a string', () => expect(requestedOrganizations(new Set(['openid', 'organization:harbor']))).toStrictEqual(['harbor']));
});

describe('whether a sign-in for one organization may go on', () => {
  const member = new Set(['county', 'parks']);
  const cases: Array<[string[], ReturnType<typeof organizationSignIn>]> = [
    [[], { kind: 'allowed', slug: null }],
    [['parks'], { kind: 'allowed', slug: 'parks' }],
    [['harbor'], { kind: 'not-a-member', slug: 'harbor' }],
    [[''], { kind: 'not-a-member', slug: '' }],
    [['county', 'parks'], { kind: 'several', slugs: ['county', 'parks'] }],
    [['county', 'harbor'], { kind: 'several', slugs: ['county', 'harbor'] }],
  ];
  for (const [requested, outcome] of cases) {
    it(`${JSON.stringify(requested)} for a member of county and parks → ${outcome.kind}`, () => expect(organizationSignIn(requested, member)).toStrictEqual(outcome));
  }
});

describe('the reason given for a change to an account', () => {
  const refused: Array<[string | undefined, boolean, RegExp]> = [
    [undefined, true, /^Say why/],
    ['', true, /^Say why/],
    [' \t\n ', true, /^Say why/],
    ['x'.repeat(REASON_MAX_LENGTH + 1), false, /^Keep the reason to 200 characters; it has 201\.$/],
    ['left\u0007', false, /control characters/],
  ];
  for (const [raw, required, sentence] of refused) {
    it(`refuses ${JSON.stringify(raw)?.slice(0, 20)}${required ? ' where one is required' : ''}`, () => {
      let caught: unknown;
      try {
        parseReason(raw, required);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect([(caught as ValidationError).field, (caught as ValidationError).message]).toStrictEqual(['reason', expect.stringMatching(sentence)]);
    });
  }
  it('keeps a reason with its spaces folded, and lets an optional one be left out', () => {
    expect(parseReason('  left the\tcounty  on 31 May ', true)).toBe('left the county on 31 May');
    expect(parseReason('x'.repeat(REASON_MAX_LENGTH), true)).toHaveLength(REASON_MAX_LENGTH);
    expect(parseReason('  ', false)).toBeUndefined();
  });
});

describe('the pseudonym of a deleted account', () => {
  it('is the same for every entry of one account, different for another, and shows nothing of the id', () => {
    const id = '4f2c9e3a-1b7d-4c8e-9f00-123456789abc';
    expect(pseudonymOf(id)).toMatch(/^deleted user [0-9a-f]{8}$/);
    expect(pseudonymOf(id)).toBe(pseudonymOf(id));
    expect(pseudonymOf('5f2c9e3a-1b7d-4c8e-9f00-123456789abc')).not.toBe(pseudonymOf(id));
    expect(pseudonymOf(id)).not.toContain(id.slice(0, 8));
  });
  it('replaces the email wherever an audit entry\'s details mention it, whatever its case, but not inside a longer address', () => {
    expect(pseudonymizedDetails({ to: 'Ada@X.test', reason: 'ada@x.test asked; not ada@x.testing', note: 'Written by ada@x.test.', count: 3, role: null }, 'ada@x.test', 'deleted user 1234abcd'))
      .toStrictEqual({ to: 'deleted user 1234abcd', reason: 'deleted user 1234abcd asked; not ada@x.testing', note: 'Written by deleted user 1234abcd.', count: 3, role: null });
  });
});

describe('the applications a stored session signed in to', () => {
  it('lists each client with the session id it was told, and skips entries without one', () => {
    expect(applicationsOf({ authorizations: { portal: { sid: 's1', grantId: 'g1' }, quiet: { grantId: 'g2' }, other: { sid: 's2' } } })).toStrictEqual([{ clientId: 'portal', sid: 's1' }, { clientId: 'other', sid: 's2' }]);
    expect(applicationsOf({})).toStrictEqual([]);
  });
});
