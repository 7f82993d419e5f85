import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { hashRecoveryCode, hashedForm, newRecoveryCodes, readRecoveryCode, recoveryCodeMatches } from '../../src/factors/recovery-codes/codes.js';

describe('recovery codes', () => {
  it('makes 10 distinct codes of 10 base32 characters (50 bits), shown as xxxxx-xxxxx, without look-alike letters', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    // Over many codes every one of the 32 characters turns up, and none of i, l, o, u.
    const seen = new Set(Array.from({ length: 40 }, () => newRecoveryCodes().join('')).join('').replace(/-/g, ''));
    expect([...seen].sort().join('')).toBe('0123456789abcdefghjkmnpqrstvwxyz');
  });

  it('reads a code whatever its case, spaces and dashes, and forgives 0/o and 1/i/l', () => {
    const typed = ['4f8kq-zc2mb', '4F8KQZC2MB', ' 4f8kq zc2mb ', '4f-8K-qZ-c2-MB'];
    expect(typed.map((input) => [input, readRecoveryCode(input)])).toStrictEqual(typed.map((input) => [input, { ok: true, forms: ['4f8kqzc2mb'] }]));
    expect(readRecoveryCode('o1lia-z0bcd')).toStrictEqual({ ok: true, forms: ['0111az0bcd'] });
  });

  it('still reads codes issued in the earlier alphabet (a–z, 2–7)', () => {
    expect(readRecoveryCode('abcde-23456')).toStrictEqual({ ok: true, forms: ['abcde23456', 'ABCDE23456'] });
    // An earlier code with letters the new alphabet forgives is tried both ways.
    expect(readRecoveryCode('lopqr-stuvw')).toStrictEqual({ ok: true, forms: ['LOPQRSTUVW'] });
    expect(readRecoveryCode('iloab-cdefg')).toStrictEqual({ ok: true, forms: ['110abcdefg', 'ILOABCDEFG'] });
  });

  it('says what is wrong with what was typed', () => {
    const rows: Array<[string, RegExp]> = [
      ['', /^Enter one of your recovery codes, like 4f8kq-zc2mb\.$/],
      ['4f8kq-zc2m', /has 10 letters and digits, like 4f8kq-zc2mb; this one has 9\.$/],
      ['4f8kq-zc2mbx', /this one has 11\.$/],
      ['4f8kq-zc2m!', /“!” is not one of them\.$/],
      ['4f8kq-zc2mé', /“é” is not one of them\.$/],
    ];
    for (const [input, sentence] of rows) {
      const read = readRecoveryCode(input);
      expect([input, read.ok ? 'read' : read.problem]).toStrictEqual([input, expect.stringMatching(sentence)]);
    }
  });

  it('stores only salted argon2id hashes keyed with a server-side pepper', async () => {
    const pepper = crypto.randomBytes(32);
    const form = hashedForm('4f8kq-zc2mb');
    const hash = await hashRecoveryCode(form, pepper);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(hash).not.toContain(form);
    // Salted.
    expect(hash).not.toBe(await hashRecoveryCode(form, pepper));
    expect(await recoveryCodeMatches(hash, form, pepper)).toBe(true);
    expect(await recoveryCodeMatches(hash, hashedForm('4f8kq-zc2mc'), pepper)).toBe(false);
    // A stolen database alone does not verify codes.
    expect(await recoveryCodeMatches(hash, form, crypto.randomBytes(32))).toBe(false);
  });
});
