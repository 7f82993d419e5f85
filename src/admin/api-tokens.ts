import type Provider from 'oidc-provider';
import { ADMIN_APP, ADMIN_SCOPE } from '../self-service/built-in-clients.js';
import type { SelfSession } from '../self-service/self-sign-in.js';
import type { User } from '../application/types.js';

export interface IssuedApiToken {
  readonly value: string;
  readonly expiresAt: Date;
}

/**
 * An access token for the admin API, made for the signed-in admin by the admin pages themselves:
 * the admin scope belongs to the built-in admin app alone, so no other client can obtain one. It is
 * issued under the admin app's own grant for this user and carries the level the admin's sign-in
 * reached, so the API holds it to the second-factor rule at every request; a reset of the user's
 * two-factor authentication deletes it with their other grants.
 */
export async function issueAdminApiToken(provider: Provider, user: User, session: SelfSession): Promise<IssuedApiToken> {
  const client = await provider.Client.find(ADMIN_APP.clientId);
  if (!client) throw new Error(`The built-in client ${ADMIN_APP.clientId} is missing.`);
  const scope = `openid ${ADMIN_SCOPE}`;
  const grant = new provider.Grant({ accountId: user.id, clientId: client.clientId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const token = new provider.AccessToken({
    accountId: user.id,
    client,
    grantId,
    gty: 'authorization_code',
    scope,
    sessionUid: session.sessionUid,
  });
  const expiresAt = new Date(Date.now() + token.expiration * 1000);
  return { value: await token.save(), expiresAt };
}
