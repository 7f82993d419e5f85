import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBoxError, createSecretBox } from '../../src/security/secret-box.js';

const key = () => crypto.randomBytes(32).toString('base64');

describe('secret box (AES-256-GCM at rest)', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const box = createSecretBox(key());
    const a = box.seal('JBSWY3DPEHPK3PXP', 'totp:u1');
    const b = box.seal('JBSWY3DPEHPK3PXP', 'totp:u1');
    assert.notEqual(a, b);
    assert.ok(!a.includes('JBSWY3DPEHPK3PXP'));
    assert.equal(box.open(a, 'totp:u1'), 'JBSWY3DPEHPK3PXP');
    assert.ok(a.startsWith(`v1.${box.currentKeyId}.`));
  });

  it('refuses another context, a tampered value and an unknown key', () => {
    const box = createSecretBox(key());
    const sealed = box.seal('secret', 'totp:u1');
    assert.throws(() => box.open(sealed, 'totp:u2'), SecretBoxError);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    assert.throws(() => box.open(parts.join('.'), 'totp:u1'), SecretBoxError);
    assert.throws(() => createSecretBox(key()).open(sealed, 'totp:u1'), /neither ENCRYPTION_KEY nor in ENCRYPTION_KEYS_PREVIOUS/);
    assert.throws(() => box.open('garbage', 'totp:u1'), /malformed/);
  });

  it('opens values sealed with a previous key after rotation', () => {
    const old = key();
    const sealed = createSecretBox(old).seal('secret', 'ctx');
    const rotated = createSecretBox(key(), [old]);
    assert.equal(rotated.open(sealed, 'ctx'), 'secret');
    assert.notEqual(rotated.seal('secret', 'ctx').split('.')[1], sealed.split('.')[1]);
  });
});
