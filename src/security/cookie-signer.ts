import crypto from 'node:crypto';

/**
 * Signs cookies and checks their signatures, for Koa's cookies and so for oidc-provider's, which
 * use it in place of keygrip (both accept an object with `sign`, `verify` and `index`). The
 * signature is keygrip's — HMAC-SHA1 of `name=value`, base64url without padding — so that cookies
 * signed before stay valid. The first key signs; any key verifies, so that keys can be rotated.
 *
 * A check is one HMAC per key tried and a constant-time comparison of equal lengths (a signature's
 * length is no secret). keygrip compares through two more HMACs under a fresh random key each time:
 * the same guarantee, at three times the work on every signed cookie of every request.
 */
export class CookieSigner {
  readonly #keys: readonly string[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('Cookies cannot be signed without a key.');
    this.#keys = [...keys];
  }

  sign(data: string): string {
    return signature(data, this.#keys[0]!);
  }

  verify(data: string, digest: string): boolean {
    return this.index(data, digest) !== -1;
  }

  /** The index of the key that made `digest` for `data`, or -1. */
  index(data: string, digest: string): number {
    const given = Buffer.from(String(digest));
    return this.#keys.findIndex((key) => {
      const expected = Buffer.from(signature(data, key));
      return expected.length === given.length && crypto.timingSafeEqual(expected, given);
    });
  }
}

function signature(data: string, key: string): string {
  return crypto.createHmac('sha1', key).update(data).digest('base64url');
}
