import crypto from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { UserError } from '../errors.js';
import type { SecondFactorService } from '../application/second-factors.js';
import type { SignIns } from '../application/sign-ins.js';
import type { User } from '../application/types.js';
import { clearSignedJson, readSignedJson, writeSignedJson } from '../http/signed-cookie.js';
import { readRememberedBrowser } from '../http/remembered-browser-cookie.js';
import { ACR } from '../policy/acr.js';
import { meetsRule } from '../policy/second-factor.js';
import { callbackUrl, homeUrl, isAdminClient, type BuiltInApp } from './built-in-clients.js';

const IDLE_MS = 30 * 60 * 1000;

interface PendingSignIn {
  readonly state: string;
  readonly verifier: string;
  /** The page of this app to go back to once signed in. */
  readonly returnTo?: string;
}

interface SignedInCookie {
  readonly sub: string;
  /** The uid of the Twofold session this app signed in with; signing that out ends this too. */
  readonly sid: string;
  readonly exp: number;
}

export interface SelfSession {
  readonly user: User;
  /** The Twofold (oidc-provider) session id, kept when other sessions are ended. */
  readonly sessionId: string;
  readonly sessionUid: string;
  /** The level the Twofold session reached (`acr`). */
  readonly acr: string | undefined;
}

const s256 = (verifier: string) => crypto.createHash('sha256').update(verifier).digest('base64url');
/** Constant-time equality of two strings that stand for secrets (state, PKCE challenge). */
const sameSecret = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Signs one of Twofold's own apps (account page, admin pages) in through Twofold: an authorization
 * request with PKCE and state, and an in-process redemption of the code — Twofold is its own
 * authorization server here, so no HTTP round trip to its public URL is needed — with the checks the
 * token endpoint makes. The result is a signed cookie scoped to the app's path, tied to the Twofold
 * session it came from, with an idle timeout. The second-factor rule is applied again at every
 * request, as at every authorization request: a session from before the rule required the second
 * factor (enforcement switched on since, or the user became a site admin) no longer opens the app.
 */
export class SelfSignIn {
  readonly #pending: string;
  readonly #signedIn: string;

  constructor(
    private readonly provider: Provider,
    private readonly accounts: SignIns,
    private readonly secondFactors: SecondFactorService,
    private readonly issuer: string,
    private readonly app: BuiltInApp,
  ) {
    const name = app.path.slice(1);
    this.#pending = `twofold.${name}.pending`;
    this.#signedIn = `twofold.${name}`;
  }

  /** A page of this app (path and query), or the app's home: never another site or app, nor a sign-in step. */
  #ownPage(raw: unknown): string {
    const home = this.app.path;
    if (typeof raw !== 'string' || raw.length > 2000 || !raw.startsWith(`${home}/`) || /[\\\s]|\/\/|\/\.\.?(\/|$)/.test(raw)) return home;
    const step = raw.slice(home.length + 1).split(/[/?#]/)[0];
    return step === 'callback' || step === 'login' || step === 'logout' ? home : raw;
  }

  /** The authorization request to send the browser to; afterwards it comes back to the page it asked for. */
  start(ctx: Context): string {
    const pending: PendingSignIn = {
      state: crypto.randomBytes(16).toString('base64url'),
      verifier: crypto.randomBytes(32).toString('base64url'),
      returnTo: ctx.method === 'GET' ? this.#ownPage(ctx.originalUrl) : this.app.path,
    };
    writeSignedJson(ctx, this.#pending, pending, { path: this.app.path, maxAgeMs: 10 * 60 * 1000 });
    const url = new URL(this.provider.urlFor('authorization'));
    url.search = new URLSearchParams({
      client_id: this.app.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: callbackUrl(this.issuer, this.app),
      state: pending.state,
      code_challenge: s256(pending.verifier),
      code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  /** Redeems the code the authorization request sent back; returns the page to go to. */
  async finish(ctx: Context): Promise<string> {
    const failed = `Signing in to ${this.app.name.toLowerCase()} did not complete. Open the page again and sign in.`;
    const pending = readSignedJson<PendingSignIn>(ctx, this.#pending);
    clearSignedJson(ctx, this.#pending, this.app.path);
    const state = String(ctx.query.state ?? '');
    if (!pending || !sameSecret(state, pending.state)) {
      throw new UserError(failed, 400);
    }
    if (typeof ctx.query.error === 'string') throw new UserError('The sign-in was cancelled.', 400);
    const code = typeof ctx.query.code === 'string' ? await this.provider.AuthorizationCode.find(ctx.query.code) : undefined;
    if (
      !code || (code as unknown as { consumed?: number }).consumed !== undefined || code.isExpired
      || code.clientId !== this.app.clientId || code.redirectUri !== callbackUrl(this.issuer, this.app)
      || !sameSecret(String(code.codeChallenge ?? ''), s256(pending.verifier)) || !code.accountId || !code.sessionUid
    ) {
      throw new UserError(failed, 400);
    }
    try {
      await code.consume();
    } catch {
      throw new UserError(failed, 400);
    }
    const cookie: SignedInCookie = { sub: code.accountId, sid: code.sessionUid, exp: Date.now() + IDLE_MS };
    writeSignedJson(ctx, this.#signedIn, cookie, { path: this.app.path });
    return this.#ownPage(pending.returnTo);
  }

  /**
   * The signed-in user, while their Twofold session lives and meets the second-factor rule; renews
   * the idle timeout. Null otherwise: signing in again asks for whatever the rule needs now.
   */
  async current(ctx: Context): Promise<SelfSession | null> {
    const cookie = readSignedJson<SignedInCookie>(ctx, this.#signedIn);
    if (!cookie || typeof cookie.exp !== 'number' || cookie.exp < Date.now()) return null;
    const session = await this.provider.Session.findByUid(cookie.sid);
    if (!session || session.accountId !== cookie.sub) return null;
    const user = await this.accounts.account(cookie.sub);
    if (!user) return null;
    if (!meetsRule(await this.secondFactors.stepFor(user, { adminArea: isAdminClient(this.app.clientId) }, session.acr, { rememberedToken: readRememberedBrowser(ctx) }))) return null;
    writeSignedJson(ctx, this.#signedIn, { ...cookie, exp: Date.now() + IDLE_MS }, { path: this.app.path });
    return { user, sessionId: session.jti, sessionUid: cookie.sid, acr: session.acr };
  }

  /**
   * The user has just proved a second factor in this app — set up their authenticator, after their
   * password — so their Twofold session now holds both factors, as if the sign-in had asked for them.
   */
  async recordSecondFactor(session: SelfSession): Promise<void> {
    const twofold = await this.provider.Session.findByUid(session.sessionUid);
    if (!twofold || twofold.accountId !== session.user.id) return;
    twofold.acr = ACR.twoFactor;
    twofold.amr = [...new Set([...(twofold.amr ?? ['pwd']), 'otp', 'mfa'])];
    await twofold.persist();
  }

  /** Forgets this app's sign-in and returns the URL that signs out of Twofold. */
  signOut(ctx: Context): string {
    clearSignedJson(ctx, this.#signedIn, this.app.path);
    const url = new URL(this.provider.urlFor('end_session'));
    url.search = new URLSearchParams({ client_id: this.app.clientId, post_logout_redirect_uri: homeUrl(this.issuer, this.app) }).toString();
    return url.href;
  }
}
