import { describe, expect, test } from '@jest/globals';
import { CookieSigner } from '../../src/security/cookie-signer.js';

// Signatures worked out apart from the code (HMAC-SHA1, base64url without padding: keygrip's format,
// which cookies set before this signer must still pass).
const DATA = 'twofold.csrf=abc';
const BY_FIRST_KEY = 'qAYQqmiRz9Tc2MsvaJI8KRcgsu4';
const BY_SECOND_KEY = '2dEDnKQB8rP50i9MlyMCZCBctkw';

describe('cookie signer', () => {
  const signer = new CookieSigner(['first-key', 'second-key']);

  test('signs with the first key, in the format cookies were signed in before', () => {
    expect(signer.sign(DATA)).toBe(BY_FIRST_KEY);
  });

  test.each([
    ['the first key', DATA, BY_FIRST_KEY, 0],
    ['a key being rotated out', DATA, BY_SECOND_KEY, 1],
    ['another value', 'twofold.csrf=abd', BY_FIRST_KEY, -1],
    ['a signature one character off', DATA, `${BY_FIRST_KEY.slice(0, -1)}v`, -1],
    ['a shorter signature', DATA, BY_FIRST_KEY.slice(0, 10), -1],
    ['a longer signature', DATA, `${BY_FIRST_KEY}=`, -1],
    ['an empty signature', DATA, '', -1],
    ['a signature in other letters', DATA, 'é'.repeat(BY_FIRST_KEY.length), -1],
  ])('knows %s', (_case, data, digest, index) => {
    expect(signer.index(data, digest)).toBe(index);
    expect(signer.verify(data, digest)).toBe(index !== -1);
  });

  test('needs a key', () => {
    expect(() => new CookieSigner([])).toThrow('without a key');
  });
});
