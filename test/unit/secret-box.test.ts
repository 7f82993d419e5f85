import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SecretBoxError, createSecretBox } from '../../src/security/secret-box.js';

const key = () => crypto.randomBytes(32).toString('base64');

describe('secret box (AES-256-GCM at rest)', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const box = createSecretBox(key());
    const a = box.seal('JBSWY3DPEHPK3PXP', 'totp:u1');
    const b = box.seal('JBSWY3DPEHPK3PXP', 'totp:u1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(a, 'totp:u1')).toBe('JBSWY3DPEHPK3PXP');
    expect(a).toStartWith(`v1.${box.currentKeyId}.`);
  });

  it('refuses another context, a tampered value and an unknown key', () => {
    const box = createSecretBox(key());
    const sealed = box.seal('secret', 'totp:u1');
    expect(() => box.open(sealed, 'totp:u2')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'), 'totp:u1')).toThrow(SecretBoxError);
    expect(() => createSecretBox(key()).open(sealed, 'totp:u1')).toThrow(/neither ENCRYPTION_KEY nor in ENCRYPTION_KEYS_PREVIOUS/);
    expect(() => box.open('garbage', 'totp:u1')).toThrow(/malformed/);
  });

  it('opens values sealed with a previous key after rotation', () => {
    const old = key();
    const sealed = createSecretBox(old).seal('secret', 'ctx');
    const rotated = createSecretBox(key(), [old]);
    expect(rotated.open(sealed, 'ctx')).toBe('secret');
    expect(rotated.seal('secret', 'ctx').split('.')[1]).not.toBe(sealed.split('.')[1]);
  });
});
