import { errors, type KoaContextWithOIDC, type Configuration, type Grant } from 'oidc-provider';
import type { Config } from '../../config/index.js';
import { renderHtml } from '../http/views.js';
import type { Logger } from '../log.js';
import type { ProviderKeys } from '../keys/provider-keys.js';
import type { SecretBox } from '../security/secret-box.js';
import type { Store } from '../store/types.js';
import { ACR_VALUES } from './acr.js';
import { createAdapterClass } from './adapter.js';
import { errorSentence } from './error-sentences.js';
import { interactionPolicy } from './interaction-policy.js';
import type { SecondFactorService } from '../mfa/second-factor-service.js';
import type { AcrClaimRequest } from '../policy/acr-request.js';
import type { SecondFactorStep } from '../policy/second-factor.js';
import { secondFactorStepFor } from '../mfa/next-step.js';
import { ADMIN_SCOPE, builtInClients, isAdminClient } from '../self-service/built-in-clients.js';

export interface ProviderDependencies {
  readonly config: Config;
  readonly store: Store;
  readonly keys: ProviderKeys;
  readonly box: SecretBox;
  readonly log: Logger;
  readonly secondFactors: SecondFactorService;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function isFirstParty(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.client?.metadata().first_party === true;
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
  const { oidc } = ctx;
  const accountId = oidc.session?.accountId;
  const clientId = oidc.client!.clientId;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (grant && (grant.accountId !== accountId || grant.clientId !== clientId)) grant = undefined;
  if (!isFirstParty(ctx) || !accountId) return grant;
  grant ??= new oidc.provider.Grant({ accountId, clientId });
  coverRequest(ctx, grant);
  await grant.save();
  return grant;
}

/** Where the sign-in stands with the second factor, decided by src/policy from the stored facts and this request. */
function secondFactorStep(store: Store, secondFactors: SecondFactorService) {
  return async (ctx: KoaContextWithOIDC): Promise<SecondFactorStep> => {
    const user = await store.users.findById(ctx.oidc.session!.accountId!);
    if (!user) return 'none';
    const claims = ctx.oidc.claims as { id_token?: { acr?: AcrClaimRequest } };
    return secondFactorStepFor(secondFactors, user, {
      acrValues: ctx.oidc.params?.acr_values,
      acrClaim: claims.id_token?.acr,
      adminArea: isAdminClient(ctx.oidc.client?.clientId),
    }, ctx.oidc.session!.acr);
  };
}

/**
 * The pages are not the only way to tokens, so the rule is checked again where they are issued: a code
 * or refresh token from a sign-in without the second factor gets no tokens while the rule requires
 * it (enforcement switched on since, or 2FA set up since). The access token keeps the level its
 * sign-in reached (`acr`), so the admin API can hold it to the rule at every request. A token made by
 * the admin pages themselves (no request here) takes the level of the session it was made in.
 */
function secondFactorAtIssuance(store: Store, secondFactors: SecondFactorService) {
  return async (ctx: KoaContextWithOIDC | undefined, token: { sessionUid?: string | undefined }): Promise<{ acr: string } | undefined> => {
    const source = ctx?.oidc.entities.AuthorizationCode ?? ctx?.oidc.entities.RefreshToken;
    if (!source) {
      const session = token.sessionUid ? await store.oidc.findByUid('Session', token.sessionUid) : null;
      return typeof session?.acr === 'string' ? { acr: session.acr } : undefined;
    }
    if (!source.accountId) return undefined;
    const user = await store.users.findById(source.accountId);
    if (!user) throw new errors.InvalidGrant('the account no longer exists');
    const step = await secondFactorStepFor(secondFactors, user, { adminArea: isAdminClient(source.clientId) }, source.acr);
    if (step !== 'none') throw new errors.InvalidGrant('the second factor is required; sign the user in again');
    return source.acr ? { acr: source.acr } : undefined;
  };
}

export function providerConfiguration({ config, store, keys, box, log, secondFactors }: ProviderDependencies): Configuration {
  return {
    adapter: createAdapterClass(store, box),
    clients: builtInClients(config.issuer),
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: keys.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    async findAccount(_ctx, sub) {
      const user = await store.users.findById(sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        async claims() {
          return { sub: user.id, email: user.email, email_verified: true, name: user.name };
        },
      };
    },
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', ADMIN_SCOPE],
    acrValues: [...ACR_VALUES],
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    extraClientMetadata: { properties: ['first_party'] },
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
      policy: interactionPolicy(secondFactorStep(store, secondFactors)),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant,
    extraTokenClaims: secondFactorAtIssuance(store, secondFactors) as Configuration['extraTokenClaims'],
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: MINUTE,
      IdToken: HOUR,
      Interaction: HOUR,
      Session: 14 * DAY,
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
