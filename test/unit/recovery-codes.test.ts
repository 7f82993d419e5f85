import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, recoveryCodeMatches } from '../../src/mfa/recovery-codes.js';

describe('recovery codes', () => {
  it('makes 10 distinct codes of 10 base32 characters (50 bits), shown as xxxxx-xxxxx', () => {
    const codes = newRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
  });

  it('reads a code whatever its case, spaces and dashes', () => {
    for (const typed of ['abcde-23456', 'ABCDE23456', ' abcde 23456 ', 'Ab-Cd-E2-34-56']) assert.equal(normalizeRecoveryCode(typed), 'ABCDE23456', typed);
    for (const bad of ['abcde-2345', 'abcde-234567', 'abcde-01890', 'abcdé-23456', '']) assert.equal(normalizeRecoveryCode(bad), null, bad);
  });

  it('stores only salted argon2id hashes keyed with a server-side pepper', async () => {
    const pepper = crypto.randomBytes(32);
    const hash = await hashRecoveryCode('ABCDE23456', pepper);
    assert.match(hash, /^\$argon2id\$/);
    assert.ok(!hash.includes('ABCDE23456'));
    assert.notEqual(hash, await hashRecoveryCode('ABCDE23456', pepper), 'salted');
    assert.equal(await recoveryCodeMatches(hash, 'ABCDE23456', pepper), true);
    assert.equal(await recoveryCodeMatches(hash, 'ABCDE23457', pepper), false);
    assert.equal(await recoveryCodeMatches(hash, 'ABCDE23456', crypto.randomBytes(32)), false, 'a stolen database alone does not verify codes');
  });
});
