import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { clientSecretContext } from '../application/clients.js';
import type { SecretBox } from '../security/secret-box.js';
import { RELYING_PARTY_SCOPES } from '../self-service/built-in-clients.js';
import type { Client, Store } from '../store/types.js';

/** Codes and refresh tokens: a second redemption racing the first must lose (RFC 6749 §4.1.2). */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

export function clientMetadata(client: Client, box: SecretBox): AdapterPayload {
  return {
    client_id: client.clientId,
    client_name: client.name,
    ...(client.sealedSecret === null
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: box.open(client.sealedSecret, clientSecretContext(client.clientId)), token_endpoint_auth_method: 'client_secret_basic' }),
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    // The session id goes in the ID token and in the logout token, so the application knows which of its sessions ended.
    ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: RELYING_PARTY_SCOPES,
    first_party: client.firstParty,
  };
}

/**
 * The secret a client had before its last rotation, while its grace period lasts; null otherwise
 * (docs/security-model.md, "Client secrets").
 */
export function previousClientSecret(store: Pick<Store, 'clients'>, box: SecretBox) {
  return async (clientId: string, now = new Date()): Promise<string | null> => {
    const client = await store.clients.find(clientId);
    if (!client?.previousSealedSecret || !client.previousSecretExpiresAt || client.previousSecretExpiresAt.getTime() <= now.getTime()) return null;
    return box.open(client.previousSealedSecret, clientSecretContext(client.clientId));
  };
}

/**
 * oidc-provider's persistence, on Twofold's own stores: clients come from the client repository,
 * every other model (sessions, interactions, grants, codes, tokens) from the oidc model repository.
 */
export function createAdapterClass(store: Pick<Store, 'oidc' | 'clients'>, box: SecretBox): new (name: string) => Adapter {
  return class StoreAdapter implements Adapter {
    constructor(private readonly name: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.name === 'Client') throw new Error('Clients are registered through Twofold\'s application layer (the site console, the admin API or the command line), not through oidc-provider.');
      await store.oidc.upsert(this.name, id, payload, expiresIn ? new Date(Date.now() + expiresIn * 1000) : null);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') {
        const client = await store.clients.find(id);
        return client ? clientMetadata(client, box) : undefined;
      }
      return ((await store.oidc.find(this.name, id)) ?? undefined) as AdapterPayload | undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return ((await store.oidc.findByUid(this.name, uid)) ?? undefined) as AdapterPayload | undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return ((await store.oidc.findByUserCode(this.name, userCode)) ?? undefined) as AdapterPayload | undefined;
    }

    async consume(id: string): Promise<void> {
      const won = await store.oidc.consume(this.name, id);
      if (!won && SINGLE_USE.has(this.name)) throw new errors.InvalidGrant('grant request is invalid');
    }

    async destroy(id: string): Promise<void> {
      await store.oidc.destroy(this.name, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.oidc.revokeByGrantId(this.name, grantId);
    }
  };
}
