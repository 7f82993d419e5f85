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

  // Wall-clock times say nothing on a loaded machine; the work is what an observer could tell apart, so it is counted.
  it('spends the same work for an unknown account: one verification at the configured cost', async () => {
    const hash = await hasher.hash('pw');
    await hasher.verifyNobody('warm-up');
    const workOf = async (fn: () => Promise<unknown>) => {
      const before = hasher.work();
      await fn();
      return [...hasher.work()].map(([cost, count]) => [cost, count - (before.get(cost) ?? 0)]).filter(([, count]) => count !== 0);
    };
    const known = await workOf(() => hasher.verify(hash, 'wrong'));
    const unknown = await workOf(() => hasher.verifyNobody('wrong'));
    expect(known).toStrictEqual([['argon2id m=19456,p=1,t=2', 1]]);
    expect(unknown).toStrictEqual(known);
    expect(await hasher.verifyNobody('pw')).toBe(false);
  });

  it('counts an imported hash by its own format, so a cheaper one would show', async () => {
    const weaker = await new PasswordHasher({ memoryKib: 4096, iterations: 1, parallelism: 1 }).hash('pw');
    const before = hasher.work();
    await hasher.verify(weaker, 'pw');
    await hasher.verify('$md5$whatever', 'pw');
    const after = hasher.work();
    expect((after.get('argon2id m=4096,p=1,t=1') ?? 0) - (before.get('argon2id m=4096,p=1,t=1') ?? 0)).toBe(1);
    expect((after.get('malformed') ?? 0) - (before.get('malformed') ?? 0)).toBe(1);
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
