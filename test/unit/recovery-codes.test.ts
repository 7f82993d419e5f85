import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, recoveryCodeMatches } from '../../src/factors/recovery-codes/codes.js';

describe('recovery codes', () => {
  it('makes 10 distinct codes of 10 base32 characters (50 bits), shown as xxxxx-xxxxx', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
  });

  it('reads a code whatever its case, spaces and dashes', () => {
    const typed = ['abcde-23456', 'ABCDE23456', ' abcde 23456 ', 'Ab-Cd-E2-34-56'];
    expect(typed.map((input) => [input, normalizeRecoveryCode(input)])).toStrictEqual(typed.map((input) => [input, 'ABCDE23456']));
    const bad = ['abcde-2345', 'abcde-234567', 'abcde-01890', 'abcdé-23456', ''];
    expect(bad.map((input) => [input, normalizeRecoveryCode(input)])).toStrictEqual(bad.map((input) => [input, null]));
  });

  it('stores only salted argon2id hashes keyed with a server-side pepper', async () => {
    const pepper = crypto.randomBytes(32);
    const hash = await hashRecoveryCode('ABCDE23456', pepper);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(hash).not.toContain('ABCDE23456');
    // Salted.
    expect(hash).not.toBe(await hashRecoveryCode('ABCDE23456', pepper));
    expect(await recoveryCodeMatches(hash, 'ABCDE23456', pepper)).toBe(true);
    expect(await recoveryCodeMatches(hash, 'ABCDE23457', pepper)).toBe(false);
    // A stolen database alone does not verify codes.
    expect(await recoveryCodeMatches(hash, 'ABCDE23456', crypto.randomBytes(32))).toBe(false);
  });
});
