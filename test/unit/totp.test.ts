import { describe, expect, it } from '@jest/globals';
import { generate } from 'otplib';
import { currentTimeStep, formatSecret, matchTotp, newTotpSecret, otpauthUri, parsePasscode, totpAt } from '../../src/factors/totp/totp.js';

// RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890", 8 digits.
const RFC_SEED = new TextEncoder().encode('12345678901234567890');
const RFC_VECTORS: Array<[number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];
// The same seed in base32, as Twofold stores secrets.
const RFC_SEED_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP (RFC 6238)', () => {
  for (const [time, expected] of RFC_VECTORS) {
    it(`matches the RFC 6238 SHA-1 vector at T=${time}`, async () => {
      expect(await generate({ secret: RFC_SEED, epoch: time, digits: 8 })).toBe(expected);
      // The 6-digit code is the vector truncated.
      expect(await totpAt(RFC_SEED_BASE32, time * 1000)).toBe(expected.slice(-6));
      expect(await matchTotp(RFC_SEED_BASE32, expected.slice(-6), undefined, time * 1000)).toBe(Math.floor(time / 30));
    });
  }

  it('accepts one time step either side for clock drift, and no more', async () => {
    const now = 1_700_000_000_000;
    const step = currentTimeStep(now);
    for (const [offset, accepted] of [[-2, false], [-1, true], [0, true], [1, true], [2, false]] as const) {
      const code = await totpAt(RFC_SEED_BASE32, now + offset * 30_000);
      expect([offset, await matchTotp(RFC_SEED_BASE32, code, undefined, now)]).toStrictEqual([offset, accepted ? step + offset : null]);
    }
  });

  it('refuses a code whose step is not newer than the last accepted one (replay)', async () => {
    const now = 1_700_000_000_000;
    const code = await totpAt(RFC_SEED_BASE32, now);
    const step = currentTimeStep(now);
    expect(await matchTotp(RFC_SEED_BASE32, code, step, now)).toBeNull();
    expect(await matchTotp(RFC_SEED_BASE32, code, step - 1, now)).toBe(step);
  });

  it('refuses a wrong code, and a code of the wrong length whose digits match', async () => {
    const now = 1_700_000_000_000;
    const code = await totpAt(RFC_SEED_BASE32, now);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    expect(await matchTotp(RFC_SEED_BASE32, wrong, undefined, now)).toBeNull();
    expect(await matchTotp(RFC_SEED_BASE32, code.slice(0, 5), undefined, now)).toBeNull();
    expect(await matchTotp(RFC_SEED_BASE32, `${code}0`, undefined, now)).toBeNull();
    expect(await matchTotp(RFC_SEED_BASE32, '１２３４５６', undefined, now)).toBeNull();
    expect(await matchTotp(RFC_SEED_BASE32.toLowerCase(), code, undefined, now)).toBe(currentTimeStep(now));
  });

  it('makes 160-bit secrets, never twice the same', () => {
    const secrets = new Set(Array.from({ length: 100 }, newTotpSecret));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  });

  it('builds the standard otpauth URI every authenticator app reads', () => {
    const uri = new URL(otpauthUri('City of Springfield', 'ada@city.test', RFC_SEED_BASE32));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/City of Springfield:ada@city.test');
    expect(uri.searchParams.get('secret')).toBe(RFC_SEED_BASE32);
    expect(uri.searchParams.get('issuer')).toBe('City of Springfield');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });

  it('reads typed passcodes and shows keys in groups', () => {
    expect(parsePasscode(' 123 456 ')).toBe('123456');
    const bad = ['12345', '1234567', 'abcdef', '１２３４５６', ''];
    expect(bad.map((input) => [input, parsePasscode(input)])).toStrictEqual(bad.map((input) => [input, null]));
    expect(formatSecret('ABCDEFGHIJKL')).toBe('ABCD EFGH IJKL');
  });
});
