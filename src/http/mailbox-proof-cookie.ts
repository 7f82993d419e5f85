import type { Context } from 'koa';
import { MAILBOX_PROOF_MS } from '../policy/second-factor.js';
import type { User } from '../store/types.js';
import { readSignedJson, writeSignedJson } from './signed-cookie.js';

/**
 * "This browser just used a link e-mailed to this account" (docs/rules.md, "The first set-up belongs to
 * the person"): set when an invitation or reset link sets the password, it spares the first set-up in
 * the next 30 minutes the e-mailed code — the mailbox was proven already. Signed, HttpOnly, for the
 * whole site (the sign-in pages and /account both read it), bound to the account.
 */
const COOKIE = 'twofold.mailbox-proven';

interface MailboxProof {
  readonly sub: string;
  readonly at: number;
}

export function writeMailboxProof(ctx: Context, user: Pick<User, 'id'>): void {
  writeSignedJson(ctx, COOKIE, { sub: user.id, at: Date.now() } satisfies MailboxProof, { path: '/', maxAgeMs: MAILBOX_PROOF_MS });
}

/** When this browser proved the user's mailbox, if it did; the rule decides whether that is recent enough. */
export function readMailboxProof(ctx: Context, user: Pick<User, 'id'>): Date | null {
  const proof = readSignedJson<MailboxProof>(ctx, COOKIE);
  return proof?.sub === user.id && typeof proof.at === 'number' ? new Date(proof.at) : null;
}
