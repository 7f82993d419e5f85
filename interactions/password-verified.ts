import type { Context } from 'koa';
import { clearSignedJson, readSignedJson, writeSignedJson } from '../src/http/signed-cookie.js';

/**
 * What one factor proved in this sign-in, kept until the other factor is given inside the same login
 * step: a signed cookie scoped to the interaction, valid ten minutes. It names the account, and
 * nothing is granted until the second factor is right too.
 */
interface Proof {
  readonly uid: string;
  readonly accountId: string;
  /** What it proved, for the sign-in's `amr` (RFC 8176). */
  readonly amr: string;
  readonly exp: number;
}

const TEN_MINUTES = 10 * 60 * 1000;
const path = (uid: string) => `/interaction/${uid}`;

function proofCookie(name: string) {
  return {
    remember(ctx: Context, uid: string, accountId: string, amr: string): void {
      const value: Proof = { uid, accountId, amr, exp: Date.now() + TEN_MINUTES };
      writeSignedJson(ctx, name, value, { path: path(uid), maxAgeMs: TEN_MINUTES });
    },
    read(ctx: Context, uid: string): Proof | null {
      const value = readSignedJson<Proof>(ctx, name);
      return value?.uid === uid && typeof value.accountId === 'string' && typeof value.amr === 'string' && value.exp > Date.now() ? value : null;
    },
    forget(ctx: Context, uid: string): void {
      clearSignedJson(ctx, name, path(uid));
    },
  };
}

/** The password was right for this account in this sign-in; the passcode comes next. */
const passwordProof = proofCookie('twofold.password-verified');
/**
 * A passkey answered for this account in this sign-in without verifying the person (no PIN or
 * fingerprint): one factor, so the password comes next (docs/rules.md, "Phishing-resistant sign-in").
 */
export const passkeyProof = proofCookie('twofold.passkey-verified');

export const rememberPasswordVerified = (ctx: Context, uid: string, accountId: string) => passwordProof.remember(ctx, uid, accountId, 'pwd');
export const readPasswordVerified = (ctx: Context, uid: string) => passwordProof.read(ctx, uid);
export const forgetPasswordVerified = (ctx: Context, uid: string) => passwordProof.forget(ctx, uid);
