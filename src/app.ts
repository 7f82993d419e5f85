import type { Middleware } from 'koa';
import Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import { interactionRouter } from '../interactions/router.js';
import { demoRelyingParty } from './demo/relying-party.js';
import { accountRouter } from './account/routes.js';
import { AdminService } from './admin/admin-service.js';
import { adminApi } from './admin/api.js';
import { adminRouter } from './admin/routes.js';
import { invitationRouter } from './invitations/routes.js';
import { AuditLog } from './audit/audit-log.js';
import { Directory } from './directory/directory.js';
import { FederationService } from './federation/federation-service.js';
import { federationRouter } from './federation/routes.js';
import { Mailer } from './mail/mailer.js';
import { SecondFactorService } from './mfa/second-factor-service.js';
import { PasswordThrottle } from './security/password-throttle.js';
import { refuseOversizedBodies } from './http/body.js';
import { errorPages } from './http/error-pages.js';
import { routeByPrefix } from './http/route-by-prefix.js';
import { securityHeaders } from './http/security-headers.js';
import { staticFiles } from './http/static-files.js';
import { loadProviderKeys } from './keys/provider-keys.js';
import type { Logger } from './log.js';
import { providerConfiguration } from './provider/configuration.js';
import { PasswordHasher } from './security/password-hasher.js';
import { createSecretBox } from './security/secret-box.js';
import type { Services } from './services.js';
import type { Store } from './store/types.js';

export interface AppOptions {
  readonly config: Config;
  readonly store: Store;
  readonly encryptionKey: string;
  readonly log: Logger;
}

export interface TwofoldApp extends Services {
  /** The Node request listener: oidc-provider's Koa app with Twofold's routes in front. */
  readonly callback: ReturnType<Provider['callback']>;
}

/** Builds the whole application from configuration and an open store. No side effects on import. */
export async function createApp({ config, store, encryptionKey, log }: AppOptions): Promise<TwofoldApp> {
  const box = createSecretBox(encryptionKey, config.previousEncryptionKeys);
  const keys = await loadProviderKeys(store.keys, box);
  const mailer = new Mailer(config, log);
  const audit = new AuditLog(store);
  const secondFactors = new SecondFactorService(store, box, config, mailer, log, audit);
  const provider = new Provider(config.issuer, providerConfiguration({ config, store, keys, box, log, secondFactors }));
  // Koa then believes only the addresses the proxies in front of it appended to X-Forwarded-For.
  provider.proxy = config.trustProxy > 0;
  provider.maxIpsCount = config.trustProxy;
  provider.on('server_error', (_ctx, error) => log.error('oidc-provider server_error', { error: error.stack ?? String(error) }));

  const hasher = new PasswordHasher(config.passwordHash);
  const federation = new FederationService(store, box, config, audit, log);
  const admin = new AdminService(store, secondFactors, federation, audit, mailer, config.issuer);
  const services: Services = {
    config,
    store,
    provider,
    directory: new Directory(store, hasher, box),
    hasher,
    passwordThrottle: new PasswordThrottle(store.attempts, config.lockout),
    secondFactors,
    mailer,
    audit,
    federation,
    admin,
    box,
    log,
  };

  provider.use(securityHeaders({ hsts: new URL(config.issuer).protocol === 'https:' }));
  provider.use(errorPages(log));
  provider.use(staticFiles());
  provider.use(routeByPrefix({
    '/interaction': [interactionRouter(services).routes() as Middleware],
    '/account': [accountRouter(services).routes() as Middleware],
    '/admin': [adminApi(services, admin, log), adminRouter(services, admin).routes() as Middleware],
    '/invitation': [invitationRouter(services).routes() as Middleware],
    '/federation': [federationRouter(services).routes() as Middleware],
    ...(config.demo ? { '/demo': [demoRelyingParty(services).routes() as Middleware] } : {}),
  }));
  // What is left is oidc-provider's own endpoints; Twofold's routes check their bodies as they read them.
  provider.use(refuseOversizedBodies());
  return { ...services, callback: provider.callback() };
}
