import { describe, expect, it } from '@jest/globals';
import { PasswordHasher } from '../../src/security/password-hasher.js';

describe('password hashing (argon2id)', () => {
  const hasher = new PasswordHasher({ memoryKib: 19456, iterations: 2, parallelism: 1 });

  it('hashes with argon2id at the configured OWASP parameters and verifies', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    const [, algorithm, version, parameters] = hash.split('$');
    expect(algorithm).toBe('argon2id');
    expect(version).toBe('v=19');
    expect(parameters!.split(',').sort()).toStrictEqual(['m=19456', 'p=1', 't=2']);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
    expect(hasher.needsRehash(hash)).toBe(false);
  });

  it('asks for a re-hash when the parameters change', async () => {
    const weaker = await new PasswordHasher({ memoryKib: 4096, iterations: 1, parallelism: 1 }).hash('pw');
    expect(hasher.needsRehash(weaker)).toBe(true);
  });

  it('spends comparable work for an unknown account', async () => {
    const hash = await hasher.hash('pw');
    const time = async (fn: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await hasher.verifyNobody('warm-up');
    // The two kinds alternate, so that both meet the same load from the suites that Jest runs beside this one.
    let known = 0;
    let unknown = 0;
    for (let i = 0; i < 5; i += 1) {
      known += await time(() => hasher.verify(hash, 'wrong'));
      unknown += await time(() => hasher.verifyNobody('wrong'));
    }
    expect(await hasher.verifyNobody('pw')).toBe(false);
    expect(unknown).toBeGreaterThan(known * 0.5);
    expect(unknown).toBeLessThan(known * 2);
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
    expect(cases.map(([hash]) => [hash, hashIsWithinLimits(hash)])).toStrictEqual(cases);
  });
});
