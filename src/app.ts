import type { Middleware } from 'koa';
import Provider from 'oidc-provider';
import { interactionRouter } from '../interactions/router.js';
import { accountRouter } from './account/routes.js';
import { adminApi } from './admin/api/index.js';
import { adminRouter } from './admin/routes.js';
import type { Application } from './application/index.js';
import type { Composition } from './compose.js';
import { demoRelyingParty } from './demo/relying-party.js';
import { federationRouter } from './federation/routes.js';
import { refuseOversizedBodies } from './http/body.js';
import { errorPages } from './http/error-pages.js';
import { healthEndpoints, storeAnswers } from './http/health.js';
import { metricsEndpoint } from './http/metrics.js';
import { observeRequests } from './http/observe-requests.js';
import { requestId } from './http/request-id.js';
import { routeByPrefix } from './http/route-by-prefix.js';
import { securityHeaders } from './http/security-headers.js';
import { staticFiles } from './http/static-files.js';
import { invitationRouter } from './invitations/routes.js';
import { notMeRouter } from './not-me/routes.js';
import { passwordRouter } from './password/routes.js';
import { loadProviderKeys } from './keys/provider-keys.js';
import { previousClientSecret } from './provider/adapter.js';
import { commitBeforeResponding } from './http/commit-before-responding.js';
import { LogoutTokenDelivery, queueEndSessionLogoutTokens } from './provider/back-channel-logout.js';
import { providerConfiguration } from './provider/configuration.js';
import { bindRememberedSignIns } from './provider/remembered-sign-ins.js';
import { acceptPreviousClientSecrets } from './provider/rotated-client-secrets.js';

export interface TwofoldApp extends Application {
  readonly provider: Provider;
  /** Sends the logout tokens queued for applications (the worker loop runs it). */
  readonly logoutTokens: LogoutTokenDelivery;
  /** The Node request listener: oidc-provider's Koa app with Twofold's routes in front. */
  readonly callback: ReturnType<Provider['callback']>;
}

/**
 * Builds the HTTP side on a composition (store, secret box, mailer, application layer): oidc-provider
 * configured on Twofold's stores, and Twofold's routes in front of it, each given only what it uses.
 * `stopping` tells readiness that the server is shutting down. No side effects on import.
 */
export async function createApp(
  { config, store, box, log, metrics, application }: Composition,
  { stopping = () => false }: { stopping?: () => boolean } = {},
): Promise<TwofoldApp> {
  const keys = await loadProviderKeys(store.keys, box);
  const { signIns, secondFactors, federation, members, signOuts } = application;
  const provider = new Provider(config.issuer, providerConfiguration({ config, store, keys, box, log, accounts: signIns, secondFactors, members }));
  acceptPreviousClientSecrets(provider, previousClientSecret(store, box));
  const logoutTokens = new LogoutTokenDelivery(provider, store.logoutNotices, queueEndSessionLogoutTokens(provider, signOuts), config, log, metrics);
  // Koa then believes only the addresses the proxies in front of it appended to X-Forwarded-For.
  provider.proxy = config.trustProxy > 0;
  provider.maxIpsCount = config.trustProxy;
  provider.on('server_error', (_ctx, error) => log.error('oidc-provider server_error', { error: error.stack ?? String(error) }));

  provider.use(commitBeforeResponding(store));
  provider.use(requestId());
  provider.use(observeRequests({ log, metrics }));
  provider.use(securityHeaders({ hsts: new URL(config.issuer).protocol === 'https:' }));
  provider.use(healthEndpoints([
    () => (stopping() ? 'shutting down' : null),
    storeAnswers(store, log),
    () => (keys.jwks.keys.length > 0 && keys.cookieKeys.length > 0 ? null : 'the signing and cookie keys are not loaded'),
  ]));
  provider.use(metricsEndpoint({ metrics, token: config.metricsToken }));
  provider.use(errorPages(log));
  provider.use(staticFiles());
  provider.use(routeByPrefix({
    '/interaction': [interactionRouter({ config, provider, signIns, secondFactors, federation, members: application.members }).routes() as Middleware],
    '/account': [accountRouter({ config, provider, signIns, secondFactors, members: application.members, selfService: application.selfService }).routes() as Middleware],
    '/admin': [adminApi({ config, provider, log, application }), adminRouter({ config, provider, application }).routes() as Middleware],
    '/invitation': [invitationRouter(application).routes() as Middleware],
    '/password': [passwordRouter(application).routes() as Middleware],
    '/not-me': [notMeRouter(application).routes() as Middleware],
    '/federation': [federationRouter(application).routes() as Middleware],
    ...(config.demo ? { '/demo': [demoRelyingParty({ config, log }).routes() as Middleware] } : {}),
  }));
  // What is left is oidc-provider's own endpoints; Twofold's routes check their bodies as they read them.
  provider.use(refuseOversizedBodies());
  provider.use(bindRememberedSignIns(secondFactors));
  return { ...application, provider, logoutTokens, callback: provider.callback() };
}
