import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../src/errors.js';
import { normalizeEmail, validateClientId, validatePassword, validateRedirectUri, validateSlug } from '../../src/application/validation.js';
import { errorSentence } from '../../src/provider/error-sentences.js';

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
    ['redirect URI', validateRedirectUri, 'https://app.test/cb?x=1', 'https://app.test/cb?x=1'],
    ['redirect URI', validateRedirectUri, 'http://localhost:8080/cb', 'http://localhost:8080/cb'],
    ['redirect URI', validateRedirectUri, 'javascript:alert(1)', null],
    ['redirect URI', validateRedirectUri, 'https://app.test/cb#frag', null],
    ['redirect URI', validateRedirectUri, '/relative', null],
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

describe('error sentences', () => {
  it('explains OAuth errors in a sentence and keeps server errors generic', () => {
    expect(errorSentence('invalid_client', 'client is invalid')).toMatch(/^The application that sent you here is not registered with Twofold\. Details/);
    expect(errorSentence('server_error', 'stack trace here')).toBe('Something went wrong on our side. Please try again in a moment.');
    expect(errorSentence('weird', undefined)).toMatch(/could not be completed\.$/);
  });
});
