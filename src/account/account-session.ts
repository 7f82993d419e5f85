import crypto from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { UserError } from '../errors.js';
import type { Store, User } from '../store/types.js';
import { ACCOUNT_CLIENT_ID, accountCallbackUrl } from './account-client.js';

const PENDING = 'twofold.account.pending';
const SIGNED_IN = 'twofold.account';
const IDLE_MS = 30 * 60 * 1000;

interface PendingSignIn {
  readonly state: string;
  readonly verifier: string;
}

interface AccountCookie {
  readonly sub: string;
  /** The uid of the Twofold session the account page signed in with; signing that out ends this too. */
  readonly sid: string;
  readonly exp: number;
}

export interface AccountSession {
  readonly user: User;
  /** The Twofold (oidc-provider) session id, kept when other sessions are ended. */
  readonly sessionId: string;
  readonly sessionUid: string;
}

const cookieOptions = (ctx: Context) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path: '/account', overwrite: true });
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = <T>(raw: string | undefined): T | null => {
  if (!raw) return null;
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
};

/** The authorization request that signs the account page in (code + PKCE, state in a signed cookie). */
export function startAccountSignIn(ctx: Context, provider: Provider, issuer: string): string {
  const pending: PendingSignIn = { state: crypto.randomBytes(16).toString('base64url'), verifier: crypto.randomBytes(32).toString('base64url') };
  ctx.cookies.set(PENDING, encode(pending), { ...cookieOptions(ctx), maxAge: 10 * 60 * 1000 });
  const url = new URL(provider.urlFor('authorization'));
  url.search = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: accountCallbackUrl(issuer),
    state: pending.state,
    code_challenge: crypto.createHash('sha256').update(pending.verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return url.href;
}

const SIGN_IN_FAILED = 'Signing in to your account page did not complete. Go back to your account page and try again.';

/**
 * Redeems the authorization code in-process — Twofold is its own authorization server here, so no
 * HTTP round trip to its public URL is needed — with the same checks the token endpoint makes.
 */
export async function finishAccountSignIn(ctx: Context, provider: Provider, issuer: string): Promise<void> {
  const pending = decode<PendingSignIn>(ctx.cookies.get(PENDING, { signed: true }));
  ctx.cookies.set(PENDING, null, cookieOptions(ctx));
  const state = String(ctx.query.state ?? '');
  if (!pending || state.length !== pending.state.length || !crypto.timingSafeEqual(Buffer.from(state), Buffer.from(pending.state))) {
    throw new UserError(SIGN_IN_FAILED, 400);
  }
  if (typeof ctx.query.error === 'string') throw new UserError('Signing in to your account page was cancelled.', 400);
  const code = typeof ctx.query.code === 'string' ? await provider.AuthorizationCode.find(ctx.query.code) : undefined;
  const challenge = crypto.createHash('sha256').update(pending.verifier).digest('base64url');
  if (
    !code || (code as unknown as { consumed?: number }).consumed !== undefined || code.isExpired || code.clientId !== ACCOUNT_CLIENT_ID || code.redirectUri !== accountCallbackUrl(issuer)
    || code.codeChallenge !== challenge || !code.accountId || !code.sessionUid
  ) {
    throw new UserError(SIGN_IN_FAILED, 400);
  }
  try {
    await code.consume();
  } catch {
    throw new UserError(SIGN_IN_FAILED, 400);
  }
  const cookie: AccountCookie = { sub: code.accountId, sid: code.sessionUid, exp: Date.now() + IDLE_MS };
  ctx.cookies.set(SIGNED_IN, encode(cookie), cookieOptions(ctx));
}

/** The signed-in account, while its Twofold session lives; renews the idle timeout. */
export async function currentAccount(ctx: Context, provider: Provider, store: Store): Promise<AccountSession | null> {
  const cookie = decode<AccountCookie>(ctx.cookies.get(SIGNED_IN, { signed: true }));
  if (!cookie || typeof cookie.exp !== 'number' || cookie.exp < Date.now()) return null;
  const session = await provider.Session.findByUid(cookie.sid);
  if (!session || session.accountId !== cookie.sub) return null;
  const user = await store.users.findById(cookie.sub);
  if (!user) return null;
  ctx.cookies.set(SIGNED_IN, encode({ ...cookie, exp: Date.now() + IDLE_MS }), cookieOptions(ctx));
  return { user, sessionId: session.jti, sessionUid: cookie.sid };
}

export function forgetAccountSignIn(ctx: Context): void {
  ctx.cookies.set(SIGNED_IN, null, cookieOptions(ctx));
}
