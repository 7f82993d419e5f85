import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/errors.js';
import { normalizeEmail, parseGraceHours, validateClientId, validatePassword, validateRedirectUri, validateSlug, validateUriList } from '../../src/application/validation.js';
import { errorSentence } from '../../src/provider/error-sentences.js';

const outsideProduction = (raw: string) => validateRedirectUri(raw, { production: false });

describe('input validation', () => {
  const cases: Array<[string, (raw: string) => string, string, string | null]> = [
    ['email', normalizeEmail, ' Ada@Example.TEST ', 'ada@example.test'],
    ['email', normalizeEmail, 'no-at-sign', null],
    ['email', normalizeEmail, 'a@b', null],
    ['email', normalizeEmail, 'a b@c.test', null],
    ['email', normalizeEmail, 'a\u0000b@c.test', null],
    ['email', normalizeEmail, `${'a'.repeat(250)}@x.test`, null],
    ['slug', validateSlug, 'city-of-x', 'city-of-x'],
    ['slug', validateSlug, 'City', null],
    ['slug', validateSlug, '-city', null],
    ['slug', validateSlug, 'a'.repeat(64), null],
    ['client id', validateClientId, 'my.app_1~x-y', 'my.app_1~x-y'],
    ['client id', validateClientId, 'has space', null],
    ['redirect URI', outsideProduction, 'https://app.test/cb?x=1', 'https://app.test/cb?x=1'],
    ['redirect URI', outsideProduction, 'http://localhost:8080/cb', 'http://localhost:8080/cb'],
    ['redirect URI', outsideProduction, 'javascript:alert(1)', null],
    ['redirect URI', outsideProduction, 'https://app.test/cb#frag', null],
    ['redirect URI', outsideProduction, '/relative', null],
    ['password', validatePassword, '12345678', '12345678'],
    ['password', validatePassword, '1234567', null],
    ['password', validatePassword, 'x'.repeat(1025), null],
  ];
  for (const [what, validate, input, expected] of cases) {
    it(`${what} ${JSON.stringify(input.slice(0, 30))} → ${expected === null ? 'refused' : 'accepted'}`, () => {
      if (expected === null) expect(() => validate(input)).toThrow(ValidationError);
      else expect(validate(input)).toBe(expected);
    });
  }
});

describe('redirect URIs', () => {
  // [uri, outside production, in production]: the accepted URI, or the end of the sentence that refuses it.
  const cases: Array<[string, string, string]> = [
    ['https://app.example/callback', 'accepted', 'accepted'],
    ['https://app.example:8443/cb?tenant=1', 'accepted', 'accepted'],
    ['http://localhost:3000/cb', 'accepted', 'must be an https URL: this site runs in production, where plain http is refused.'],
    ['http://127.0.0.1:9000/cb', 'accepted', 'must be an https URL: this site runs in production, where plain http is refused.'],
    ['http://[::1]/cb', 'accepted', 'must be an https URL: this site runs in production, where plain http is refused.'],
    ['http://app.example/cb', 'must be an https URL: plain http is allowed only for localhost.', 'must be an https URL: this site runs in production, where plain http is refused.'],
    ['http://localhost.evil.example/cb', 'must be an https URL: plain http is allowed only for localhost.', 'must be an https URL: this site runs in production, where plain http is refused.'],
    ['https://app.example/cb#done', 'must not contain a fragment (#).', 'must not contain a fragment (#).'],
    ['https://app.example/cb#', 'must not contain a fragment (#).', 'must not contain a fragment (#).'],
    ['https://*.app.example/cb', 'must not contain a wildcard (*): register each address in full.', 'must not contain a wildcard (*): register each address in full.'],
    ['https://app.example/*', 'must not contain a wildcard (*): register each address in full.', 'must not contain a wildcard (*): register each address in full.'],
    ['https://user:pass@app.example/cb', 'must not contain a user name or password.', 'must not contain a user name or password.'],
    ['ftp://app.example/cb', 'must be an http or https URL.', 'must be an http or https URL.'],
    ['app.example/cb', 'is not a valid URL.', 'is not a valid URL.'],
    ['https://app.example/a b', 'is not a valid URL.', 'is not a valid URL.'],
    ['https://app.example/\u0000', 'is not a valid URL.', 'is not a valid URL.'],
    ['', 'is not a valid URL.', 'is not a valid URL.'],
  ];
  for (const [uri, outside, inProduction] of cases) {
    for (const [production, expected] of [[false, outside], [true, inProduction]] as const) {
      it(`${JSON.stringify(uri)} ${production ? 'in production' : 'outside production'}: ${expected}`, () => {
        const attempt = () => validateRedirectUri(uri, { production }, 'backchannelLogoutUri');
        if (expected === 'accepted') {
          expect(attempt()).toBe(uri);
          return;
        }
        expect(attempt).toThrow(new ValidationError(`"${uri}" ${expected}`));
        try {
          attempt();
        } catch (error) {
          expect((error as ValidationError).field).toBe('backchannelLogoutUri');
        }
      });
    }
  }

  it('refuses a URI over 2000 characters, and more than 20 of a kind, keeping one of each repeated', () => {
    expect(() => validateRedirectUri(`https://app.example/${'a'.repeat(2000)}`, { production: false })).toThrow(/at most 2000 characters/);
    const many = Array.from({ length: 21 }, (_, i) => `https://app.example/${i}`);
    expect(() => validateUriList(many, { production: false }, 'redirectUris', 'redirect URIs')).toThrow(new ValidationError('Register at most 20 redirect URIs.'));
    expect(validateUriList(['https://a.example/cb', 'https://a.example/cb'], { production: true }, 'redirectUris', 'redirect URIs')).toStrictEqual(['https://a.example/cb']);
  });
});

describe('hours a rotated secret keeps working', () => {
  const cases: Array<[unknown, number | null]> = [
    [undefined, 0], ['', 0], ['0', 0], [0, 0], ['24', 24], [' 48 ', 48], [168, 168],
    ['169', null], [-1, null], ['-1', null], [1.5, null], ['1.5', null], ['abc', null], [true, null], [['1'], null], ['1e2', null],
  ];
  for (const [raw, expected] of cases) {
    it(`${JSON.stringify(raw)} → ${expected === null ? 'refused' : expected}`, () => {
      if (expected === null) expect(() => parseGraceHours(raw)).toThrow(new ValidationError('The old secret can keep working for a whole number of hours from 0 to 168.'));
      else expect(parseGraceHours(raw)).toBe(expected);
    });
  }
});

describe('error sentences', () => {
  it('explains OAuth errors in a sentence and keeps server errors generic', () => {
    expect(errorSentence('invalid_client', 'client is invalid')).toMatch(/^The application that sent you here is not registered with Twofold\. Details/);
    expect(errorSentence('server_error', 'stack trace here')).toBe('Something went wrong on our side. Please try again in a moment.');
    expect(errorSentence('weird', undefined)).toMatch(/could not be completed\.$/);
  });
});
