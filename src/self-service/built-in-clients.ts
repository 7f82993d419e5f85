import type { ClientMetadata } from 'oidc-provider';

/**
 * Twofold's own pages that need a signed-in user — the account page and the admin pages — sign in
 * through Twofold like any relying party, so they get the same rules, second factor included. These
 * are their built-in first-party clients.
 */
export interface BuiltInApp {
  readonly clientId: string;
  readonly name: string;
  /** Where the app lives; its callback is `<path>/callback` and its cookies are scoped to it. */
  readonly path: string;
  /** The scopes it may be granted; no other client gets the admin scope. */
  readonly scope: string;
}

/** The scope of access tokens for the admin API; granted to the built-in admin app alone. */
export const ADMIN_SCOPE = 'twofold:admin';

/** Scopes a registered relying party may ask for. */
export const RELYING_PARTY_SCOPES = 'openid offline_access email profile organizations';

export const ACCOUNT_APP: BuiltInApp = { clientId: 'twofold-account', name: 'Your account', path: '/account', scope: 'openid' };
export const ADMIN_APP: BuiltInApp = { clientId: 'twofold-admin', name: 'Organization administration', path: '/admin', scope: `openid ${ADMIN_SCOPE}` };

/** Twofold's own apps' client ids, which no registered application may take. */
export const BUILT_IN_CLIENT_IDS: readonly string[] = [ACCOUNT_APP.clientId, ADMIN_APP.clientId];

/** The admin pages and the admin API: site admins always need the second factor there. */
export const isAdminClient = (clientId: unknown) => clientId === ADMIN_APP.clientId;

export const callbackUrl = (issuer: string, app: BuiltInApp) => `${issuer}${app.path}/callback`;
export const homeUrl = (issuer: string, app: BuiltInApp) => `${issuer}${app.path}`;

export function builtInClients(issuer: string): ClientMetadata[] {
  return [ACCOUNT_APP, ADMIN_APP].map((app) => ({
    client_id: app.clientId,
    client_name: app.name,
    token_endpoint_auth_method: 'none',
    redirect_uris: [callbackUrl(issuer, app)],
    post_logout_redirect_uris: [homeUrl(issuer, app)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: app.scope,
    first_party: true,
  }));
}
