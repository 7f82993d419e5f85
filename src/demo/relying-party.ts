import Router from '@koa/router';
import type { Context } from 'koa';
import * as oidc from 'openid-client';
import { UserError } from '../errors.js';
import { render } from '../http/views.js';
import type { Config } from '../../config/index.js';
import { clearSignedJson, readSignedJson, writeSignedJson } from '../http/signed-cookie.js';
import type { Logger } from '../log.js';
import { DEMO, demoHomeUri, demoRedirectUri } from './seed.js';

const PENDING = 'twofold.demo.pending';
const SIGNED_IN = 'twofold.demo.id_token';

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
}

/**
 * A small relying party, served only in demo mode, that signs in through Twofold like any other
 * application would (authorization code + PKCE, with openid-client) and shows the ID token's claims.
 */
export function demoRelyingParty({ config, log }: { config: Config; log: Logger }): Router {
  const router = new Router({ prefix: '/demo' });
  const cookie = { signed: true, httpOnly: true, sameSite: 'lax' as const, path: '/demo', overwrite: true };
  let discovered: Promise<oidc.Configuration> | undefined;

  const configuration = () => {
    discovered ??= oidc.discovery(new URL(config.issuer), DEMO.clientId, undefined, oidc.None(), {
      execute: new URL(config.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
    }).catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  };

  const readIdToken = (ctx: Context): { token: string; claims: Record<string, unknown> } | undefined => {
    const token = ctx.cookies.get(SIGNED_IN, { signed: true });
    if (!token) return undefined;
    const payload = token.split('.')[1];
    return payload ? { token, claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown> } : undefined;
  };

  router.get('/', (ctx) => {
    const signedIn = readIdToken(ctx);
    render(ctx, 'demo', {
      claims: signedIn ? JSON.stringify(signedIn.claims, null, 2) : undefined,
      acr: signedIn?.claims.acr,
      amr: Array.isArray(signedIn?.claims.amr) ? (signedIn.claims.amr as string[]).join(', ') : undefined,
      email: signedIn?.claims.email,
    });
  });

  router.get('/login', async (ctx) => {
    const pending: Pending = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(await configuration(), {
      redirect_uri: demoRedirectUri(config.issuer),
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    writeSignedJson(ctx, PENDING, pending, { path: '/demo', maxAgeMs: 10 * 60 * 1000 });
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const pending = readSignedJson<Pending>(ctx, PENDING);
    clearSignedJson(ctx, PENDING, '/demo');
    if (!pending) throw new UserError('This sign-in was not started here or has expired. Go back to the demo and click "Sign in" again.', 400);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(await configuration(), new URL(ctx.originalUrl, config.issuer), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
      });
    } catch (error) {
      log.warn('demo relying party: sign-in did not complete', { error: (error as Error).message });
      throw new UserError('The sign-in did not complete. Go back to the demo and try again.', 400);
    }
    ctx.cookies.set(SIGNED_IN, tokens.id_token ?? null, { ...cookie, secure: ctx.secure });
    ctx.redirect('/demo');
  });

  router.get('/logout', async (ctx) => {
    const signedIn = readIdToken(ctx);
    ctx.cookies.set(SIGNED_IN, null, cookie);
    if (!signedIn) return ctx.redirect('/demo');
    const url = oidc.buildEndSessionUrl(await configuration(), {
      id_token_hint: signedIn.token,
      post_logout_redirect_uri: demoHomeUri(config.issuer),
    });
    ctx.redirect(url.href);
  });

  return router;
}
