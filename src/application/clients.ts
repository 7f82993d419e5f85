import { ConflictError, ForbiddenError, ValidationError } from '../errors.js';
import type { SecretBox } from '../security/secret-box.js';
import { DuplicateError, type Client, type Store } from '../store/types.js';
import { actsSiteWide, type Actor } from './actor.js';
import { validateBackchannelLogoutUri, validateClientId, validateClientSecret, validateName, validateRedirectUri } from './validation.js';

export interface CreateClientInput {
  readonly clientId: string;
  readonly name?: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly secret?: string;
  readonly firstParty?: boolean;
  /** Where the application takes logout tokens (OpenID Connect Back-Channel Logout 1.0), if it does. */
  readonly backchannelLogoutUri?: string;
}

/** Context string binding a sealed client secret to its client. */
export const clientSecretContext = (clientId: string) => `client-secret:${clientId}`;

/**
 * Relying parties: registered by the operator (or a site admin), their secrets sealed at rest; one
 * registered with a back-channel logout URI is sent a logout token whenever a session it signed in to ends.
 */
export class Clients {
  constructor(private readonly store: Pick<Store, 'clients'>, private readonly box: SecretBox) {}

  async create(actor: Actor, input: CreateClientInput): Promise<Client> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can register applications.');
    const clientId = validateClientId(input.clientId);
    if (input.redirectUris.length === 0) throw new ValidationError('A client needs at least one redirect URI.', 'redirectUri');
    const redirectUris = input.redirectUris.map(validateRedirectUri);
    const postLogoutRedirectUris = (input.postLogoutRedirectUris ?? []).map(validateRedirectUri);
    const secret = input.secret === undefined ? null : validateClientSecret(input.secret);
    const backchannelLogoutUri = input.backchannelLogoutUri === undefined ? null : validateBackchannelLogoutUri(input.backchannelLogoutUri);
    try {
      return await this.store.clients.create({
        clientId,
        name: input.name === undefined ? clientId : validateName(input.name, 'client'),
        sealedSecret: secret === null ? null : this.box.seal(secret, clientSecretContext(clientId)),
        redirectUris,
        postLogoutRedirectUris,
        firstParty: input.firstParty ?? false,
        backchannelLogoutUri,
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`A client with the id "${clientId}" already exists.`);
      throw error;
    }
  }

  async exists(clientId: string): Promise<boolean> {
    return (await this.store.clients.find(clientId)) !== null;
  }
}
