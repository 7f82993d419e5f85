import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PasswordHasher } from '../../src/security/password-hasher.js';

describe('password hashing (argon2id)', () => {
  const hasher = new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 1 });

  it('hashes with argon2id at the configured OWASP parameters and verifies', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    const [, algorithm, version, parameters] = hash.split('$');
    assert.equal(algorithm, 'argon2id');
    assert.equal(version, 'v=19');
    assert.deepEqual(parameters!.split(',').sort(), ['m=19456', 'p=1', 't=2']);
    assert.equal(await hasher.verify(hash, 'correct horse battery staple'), true);
    assert.equal(await hasher.verify(hash, 'Correct horse battery staple'), false);
    assert.equal(await hasher.verify('not a hash', 'x'), false);
    assert.equal(hasher.needsRehash(hash), false);
  });

  it('asks for a re-hash when the parameters change', async () => {
    const weaker = await new PasswordHasher({ memoryKib: 4096, iterations: 1, parallelism: 1 }).hash('pw');
    assert.equal(hasher.needsRehash(weaker), true);
  });

  it('spends comparable work for an unknown account', async () => {
    const hash = await hasher.hash('pw');
    const time = async (fn: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 5; i += 1) await fn();
      return Number(process.hrtime.bigint() - start) / 5e6;
    };
    await hasher.verifyNobody('warm-up');
    const known = await time(() => hasher.verify(hash, 'wrong'));
    const unknown = await time(() => hasher.verifyNobody('wrong'));
    assert.equal(await hasher.verifyNobody('pw'), false);
    assert.ok(unknown > known * 0.5 && unknown < known * 2, `known ${known.toFixed(1)} ms, unknown ${unknown.toFixed(1)} ms`);
  });
});

describe('imported password hashes', () => {
  it('refuses hashes whose cost would make a sign-in slow', async () => {
    const { hashIsWithinLimits } = await import('../../src/security/legacy-hashes.js');
    const cases: Array<[string, boolean]> = [
      ['$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', true],
      ['$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', false],
      ['$scrypt$ln=17,r=8,p=1$c2FsdA$aGFzaA', true],
      ['$scrypt$ln=24,r=8,p=1$c2FsdA$aGFzaA', false],
      ['$pbkdf2-sha256$i=600000$c2FsdA$aGFzaA', true],
      ['$pbkdf2-sha256$99999999$c2FsdA$aGFzaA', false],
      [`$2b$12$${'a'.repeat(53)}`, true],
      [`$2b$31$${'a'.repeat(53)}`, false],
      ['$md5$whatever', false],
    ];
    for (const [hash, ok] of cases) assert.equal(hashIsWithinLimits(hash), ok, hash);
  });
});
