import type { ClientMetadata } from 'oidc-provider';

/**
 * The account page signs in through Twofold like any relying party — so it gets the same rules,
 * second factor included — with this built-in first-party client.
 */
export const ACCOUNT_CLIENT_ID = 'twofold-account';
export const accountCallbackUrl = (issuer: string) => `${issuer}/account/callback`;
export const accountHomeUrl = (issuer: string) => `${issuer}/account`;

export function accountClientMetadata(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    token_endpoint_auth_method: 'none',
    redirect_uris: [accountCallbackUrl(issuer)],
    post_logout_redirect_uris: [accountHomeUrl(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    first_party: true,
  };
}
