import * as oidc from 'openid-client';
import { Browser, formAction, type Page } from './browser.js';

export const REDIRECT_URI = 'https://rp.example.test/callback';
export const POST_LOGOUT_URI = 'https://rp.example.test/signed-out';

export async function discover(issuer: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, secret, secret ? oidc.ClientSecretBasic(secret) : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface PendingSignIn {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
}

export async function startSignIn(rp: oidc.Configuration, parameters: Record<string, string> = {}): Promise<PendingSignIn> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  return { url, verifier, state, nonce };
}

export async function exchangeCode(rp: oidc.Configuration, callbackUrl: string, pending: PendingSignIn) {
  return oidc.authorizationCodeGrant(rp, new URL(callbackUrl), {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
  });
}

/** Opens the authorization URL and signs in with email and password; returns the page reached. */
export async function signInWithPassword(browser: Browser, pending: PendingSignIn, email: string, password: string): Promise<Page> {
  const loginPage = await browser.visit(pending.url.href);
  if (loginPage.status !== 200) throw new Error(`expected the sign-in page, got ${loginPage.status} at ${loginPage.url}`);
  return browser.submit(loginPage, formAction(loginPage.html, '/login'), { email, password });
}

/** Signs in and, if a consent page is shown, allows it; returns the redirect to the relying party. */
export async function signInAndAllow(browser: Browser, pending: PendingSignIn, email: string, password: string): Promise<string> {
  let page = await signInWithPassword(browser, pending, email, password);
  if (page.status === 200 && page.html.includes('/consent')) page = await browser.submit(page, formAction(page.html, '/consent'), {});
  if (!page.url.startsWith(REDIRECT_URI)) throw new Error(`expected a redirect to the relying party, got ${page.status} ${page.url}\n${page.html}`);
  return page.url;
}

export { oidc };
