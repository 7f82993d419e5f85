import { errors, type Account, type AccountClaims, type KoaContextWithOIDC, type Configuration, type Grant } from 'oidc-provider';
import type { Config } from '../../config/index.js';
import { readRememberedBrowser } from '../http/remembered-browser-cookie.js';
import { renderHtml } from '../http/views.js';
import type { Logger } from '../log.js';
import type { ProviderKeys } from '../keys/provider-keys.js';
import type { SecretBox } from '../security/secret-box.js';
import { CookieSigner } from '../security/cookie-signer.js';
import type { Store, User } from '../store/types.js';
import { ACR_VALUES } from '../policy/acr.js';
import { createAdapterClass } from './adapter.js';
import { errorSentence } from './error-sentences.js';
import { skipsConsent } from './first-party.js';
import { interactionPolicy } from './interaction-policy.js';
import { keepOrganizationScopes, ORGANIZATION_SCOPES_PARAM, restoreOrganizationScopes } from './organization-scopes.js';
import type { SecondFactorService } from '../application/second-factors.js';
import type { Members } from '../application/members.js';
import type { SignIns } from '../application/sign-ins.js';
import { ORGANIZATIONS_SCOPE, organizationSignIn, requestedOrganizations, type OrganizationSignIn } from '../policy/organization-scope.js';
import type { AcrClaimRequest } from '../policy/acr-request.js';
import { meetsRule, type SecondFactorStep } from '../policy/second-factor.js';
import { ADMIN_SCOPE, builtInClients, isAdminClient } from '../self-service/built-in-clients.js';

export interface ProviderDependencies {
  readonly config: Config;
  /** oidc-provider's own models and the registered clients: the adapter's storage. */
  readonly store: Pick<Store, 'oidc' | 'clients'>;
  readonly keys: ProviderKeys;
  readonly box: SecretBox;
  readonly log: Logger;
  readonly accounts: SignIns;
  readonly secondFactors: SecondFactorService;
  /** The memberships that the `organizations` and `organization:<slug>` scopes put in tokens. */
  readonly members: Pick<Members, 'organizationsOf'>;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long a Twofold session lives, in seconds; also used where Twofold records a sign-in in it itself. */
export const SESSION_TTL_SECONDS = 14 * DAY;
/** The options of oidc-provider's long-lived cookies, the session's among them. */
export const LONG_COOKIE = Object.freeze({ signed: true, httpOnly: true, sameSite: 'lax' as const });

/**
 * `organization:<slug>` is no scope oidc-provider knows (organization-scopes.ts keeps it in the
 * request), so consent never adds it to a grant; it is added here, so that the code and the tokens
 * carry it and the ID token can name the organization (`org_slug`). It grants nothing: it narrows the
 * sign-in to one organization.
 */
async function coverOrganizationScopes(ctx: KoaContextWithOIDC, grant: Grant): Promise<Grant> {
  const granted = new Set(grant.getOIDCScope().split(' '));
  const missing = requestedOrganizations(ctx.oidc.requestParamScopes).map((slug) => `organization:${slug}`).filter((scope) => !granted.has(scope));
  if (missing.length === 0) return grant;
  grant.addOIDCScope(missing.join(' '));
  await grant.save();
  return grant;
}

/** Adds to a grant whatever the current request asks for and the grant does not cover yet. */
export function coverRequest(ctx: KoaContextWithOIDC, grant: Grant): void {
  const scopes = [...ctx.oidc.requestParamScopes].filter((scope) => !grant.getOIDCScope().split(' ').includes(scope));
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  const claims = [...ctx.oidc.requestParamClaims].filter((claim) => !grant.getOIDCClaims().includes(claim));
  if (claims.length > 0) grant.addOIDCClaims(claims);
}

/**
 * First-party clients (the demo and those created with --first-party) are trusted by the
 * organization: their grant is made without a consent page. Third-party clients keep the default.
 */
async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  // The first of Twofold's hooks to run when oidc-provider resumes an authorization request.
  restoreOrganizationScopes(ctx);
  const { oidc } = ctx;
  const accountId = oidc.session?.accountId;
  const clientId = oidc.client!.clientId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (grant && (grant.accountId !== accountId || grant.clientId !== clientId)) grant = undefined;
  if (!skipsConsent(ctx.oidc.client) || !accountId) return grant && coverOrganizationScopes(ctx, grant);
  grant ??= new oidc.provider.Grant({ accountId, clientId });
  coverRequest(ctx, grant);
  await grant.save();
  return grant;
}

/**
 * Whether a sign-in may go on for the organization its scope names, if it names one: at every
 * authorization request, and whenever its code or refresh token is redeemed (docs/rules.md,
 * "Organizations in tokens"). The memberships are read only when an organization is named.
 */
function organizationSignInOf({ members }: Pick<ProviderDependencies, 'members'>) {
  return async (accountId: string, scope: string | Iterable<string> | undefined): Promise<OrganizationSignIn> => {
    const requested = requestedOrganizations(scope);
    if (requested.length === 0) return { kind: 'allowed', slug: null };
    const memberships = await members.organizationsOf(accountId);
    return organizationSignIn(requested, new Set(memberships.map((membership) => membership.slug)));
  };
}

/**
 * The User each of findAccount's accounts was made from. oidc-provider loads the session's account
 * (findAccount) just before it runs the interaction policy's checks: the second-factor check then
 * works on the same row, read once in the request.
 */
const usersOfAccounts = new WeakMap<Account, User>();

/** Where the sign-in stands with the second factor, decided by src/policy from the stored facts and this request. */
function secondFactorStep({ accounts, secondFactors }: Pick<ProviderDependencies, 'accounts' | 'secondFactors'>) {
  return async (ctx: KoaContextWithOIDC): Promise<SecondFactorStep> => {
    const accountId = ctx.oidc.session!.accountId!;
    const loaded = ctx.oidc.account?.accountId === accountId ? usersOfAccounts.get(ctx.oidc.account) : undefined;
    const user = loaded ?? (await accounts.account(accountId));
    if (!user) return 'none';
    const claims = ctx.oidc.claims as { id_token?: { acr?: AcrClaimRequest } };
    return secondFactors.stepFor(user, {
      acrValues: ctx.oidc.params?.acr_values,
      acrClaim: claims.id_token?.acr,
      adminArea: isAdminClient(ctx.oidc.client?.clientId),
    }, ctx.oidc.session!.acr, { rememberedToken: readRememberedBrowser(ctx) });
  };
}

/**
 * The access token keeps the level its sign-in reached (`acr`), so that the admin API can hold it to
 * the rule at every request. A token made by the admin pages themselves (outside any oidc-provider
 * request) takes the level of the session it was made in.
 */
function levelOfAccessToken(store: Pick<Store, 'oidc'>) {
  return async (ctx: KoaContextWithOIDC | undefined, token: { sessionUid?: string | undefined }): Promise<{ acr: string } | undefined> => {
    const source = ctx?.oidc.entities.AuthorizationCode ?? ctx?.oidc.entities.RefreshToken;
    const acr = source ? source.acr : (token.sessionUid ? await store.oidc.findByUid('Session', token.sessionUid) : null)?.acr;
    return typeof acr === 'string' ? { acr } : undefined;
  };
}

const REDEEMED_FOR_TOKENS: ReadonlySet<string> = new Set(['AuthorizationCode', 'RefreshToken']);

export function providerConfiguration({ config, store, keys, box, log, accounts, secondFactors, members }: ProviderDependencies): Configuration {
  const organizationSignInFor = organizationSignInOf({ members });
  return {
    adapter: createAdapterClass(store, box),
    clients: builtInClients(config.issuer),
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: new CookieSigner(keys.cookieKeys),
      long: { ...LONG_COOKIE },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    /*
     * oidc-provider loads the account for every token it issues, passing the code or refresh token
     * being redeemed: the pages are not the only way to tokens, so the rule is applied again here. A
     * code or refresh token from a sign-in that did not reach what the rule requires now (enforcement
     * switched on since, 2FA set up since, the remembered browser it signed in on removed or expired)
     * gets no tokens. A suspended account is not found at all, so its codes and refresh tokens are
     * refused (`invalid_grant`), and so is a sign-in for one organization once the person has left it.
     * Memberships are read afresh each time, so a refreshed ID token lists the organizations of today.
     */
    async findAccount(_ctx, sub, token) {
      const user = await accounts.account(sub);
      if (!user) return undefined;
      if (token && REDEEMED_FOR_TOKENS.has(token.kind)) {
        const redeemed = token as unknown as { clientId?: string; acr?: string; sessionUid?: string; scope?: string };
        const browser = { signInSessionUid: redeemed.sessionUid };
        if (!meetsRule(await secondFactors.stepFor(user, { adminArea: isAdminClient(redeemed.clientId) }, redeemed.acr, browser))) {
          throw new errors.InvalidGrant('the second factor is required; sign the user in again');
        }
        if ((await organizationSignInFor(user.id, redeemed.scope)).kind !== 'allowed') {
          throw new errors.InvalidGrant('the account is no longer a member of the organization this sign-in was for');
        }
      }
      const account: Account = {
        accountId: user.id,
        async claims(_use, scope) {
          const claims: AccountClaims = { sub: user.id, email: user.email, email_verified: true, name: user.name };
          const scopes = new Set(scope?.split(' '));
          const [slug] = requestedOrganizations(scopes);
          if (!scopes.has(ORGANIZATIONS_SCOPE) && slug === undefined) return claims;
          const memberships = await members.organizationsOf(user.id);
          if (scopes.has(ORGANIZATIONS_SCOPE)) claims.organizations = memberships;
          if (slug !== undefined && memberships.some((membership) => membership.slug === slug)) claims.org_slug = slug;
          return claims;
        },
      };
      usersOfAccounts.set(account, user);
      return account;
    },
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'org_slug'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      [ORGANIZATIONS_SCOPE]: ['organizations'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', ORGANIZATIONS_SCOPE, ADMIN_SCOPE],
    acrValues: [...ACR_VALUES],
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    extraClientMetadata: { properties: ['first_party'] },
    extraParams: { [ORGANIZATION_SCOPES_PARAM]: keepOrganizationScopes },
    /*
     * oidc-provider's outgoing requests refuse private and loopback addresses, a guard for providers
     * where anyone may register a client. Twofold registers clients only through site admins and the
     * operator, and its only outgoing requests from oidc-provider are logout tokens to the back-channel
     * logout URI they registered — an intranet application as often as not — so these go where
     * registered (docs/security-model.md, "Back-channel logout").
     */
    fetch: (url, options) => globalThis.fetch(url, { ...options, dispatcher: undefined } as RequestInit),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      id_token_signed_response_alg: 'RS256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      revocation: { enabled: true },
      backchannelLogout: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = renderHtml('logout', { form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = renderHtml('logged-out', { clientName: ctx.oidc.client?.clientName });
        },
      },
    },
    interactions: {
      policy: interactionPolicy(secondFactorStep({ accounts, secondFactors }), (ctx) => organizationSignInFor(ctx.oidc.session!.accountId!, ctx.oidc.requestParamScopes)),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant,
    extraTokenClaims: levelOfAccessToken(store) as Configuration['extraTokenClaims'],
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: MINUTE,
      IdToken: HOUR,
      Interaction: HOUR,
      Session: SESSION_TTL_SECONDS,
      Grant: 14 * DAY,
      RefreshToken: 14 * DAY,
    },
    async renderError(ctx, out, error) {
      if (!(error instanceof Error) || (error as { statusCode?: number }).statusCode === undefined || (error as { statusCode: number }).statusCode >= 500) {
        log.error('oidc-provider error', { path: ctx.path, error: error instanceof Error ? error.stack : String(error) });
      }
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = renderHtml('error', { title: 'Sign-in could not continue', message: errorSentence(out.error, out.error_description) });
    },
  };
}
