import crypto from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { SecretBox } from '../security/secret-box.js';
import { DuplicateError, type Client, type Store } from '../store/types.js';
import { requireSiteWide, via, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import {
  parseGraceHours, validateClientId, validateClientSecret, validateName, validateRedirectUri, validateUriList, type UriRules,
} from './validation.js';

export interface CreateClientInput {
  /** Made from the name when left out. */
  readonly clientId?: string;
  readonly name?: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  /** Where OpenID Connect Back-Channel Logout tokens are posted; a URI like a redirect URI. */
  readonly backchannelLogoutUri?: string | null;
  /**
   * A confidential client authenticates with a secret: the one given, or else one Twofold makes.
   * Without `confidential`, a client is confidential exactly when a secret is given.
   */
  readonly confidential?: boolean;
  readonly secret?: string;
  readonly firstParty?: boolean;
}

/** A client just registered, or its secret just rotated: the secret in clear, this once, and never again. */
export interface ClientWithSecret {
  readonly client: Client;
  /** Null for a public client. */
  readonly secret: string | null;
}

/** Context string binding a sealed client secret to its client. */
export const clientSecretContext = (clientId: string) => `client-secret:${clientId}`;

const HOUR_MS = 60 * 60 * 1000;
const NOT_FOUND = (clientId: string) => `There is no application with the client id "${clientId}".`;

/** 256 random bits: a secret nobody chose, so nobody can guess it. */
const newSecret = () => crypto.randomBytes(32).toString('base64url');

/** A client id from the application's name ("Partner portal" → "partner-portal-3f9a1c2e"), unique by its random tail. */
function clientIdFrom(name: string): string {
  const stem = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return `${stem || 'app'}-${crypto.randomBytes(4).toString('hex')}`;
}

/**
 * Relying parties (docs/rules.md, "Applications"): registered, listed, their secrets rotated and the
 * applications deleted by site admins and the operator only. Secrets are sealed at rest and shown in
 * clear only in the answer that made them. Every change is audited in the site log.
 */
export class Clients {
  constructor(
    private readonly store: Pick<Store, 'clients' | 'oidc'>,
    private readonly box: SecretBox,
    private readonly audit: AuditLog,
    private readonly rules: UriRules,
    /** Twofold's own apps: their ids cannot be registered. */
    private readonly reservedClientIds: readonly string[],
  ) {}

  /** Registers an application: every value is checked before anything is saved. */
  async create(actor: Actor, input: CreateClientInput, ip: string | null = null): Promise<ClientWithSecret> {
    requireSiteWide(actor, 'Only site admins can register applications.');
    const name = input.name === undefined ? undefined : validateName(input.name, 'application');
    const clientId = validateClientId(input.clientId ?? clientIdFrom(name ?? ''));
    if (this.reservedClientIds.includes(clientId)) throw new ConflictError(`The client id "${clientId}" belongs to one of Twofold's own pages. Choose another.`, 'clientId');
    if (input.redirectUris.length === 0) throw new ValidationError('Register at least one redirect URI: where the application receives the sign-in.', 'redirectUris');
    const redirectUris = validateUriList(input.redirectUris, this.rules, 'redirectUris', 'redirect URIs');
    const postLogoutRedirectUris = validateUriList(input.postLogoutRedirectUris ?? [], this.rules, 'postLogoutRedirectUris', 'post-logout redirect URIs');
    const backchannelLogoutUri = input.backchannelLogoutUri ? validateRedirectUri(input.backchannelLogoutUri, this.rules, 'backchannelLogoutUri') : null;
    const confidential = input.confidential ?? input.secret !== undefined;
    if (!confidential && input.secret !== undefined) throw new ValidationError('A public application has no secret: leave the secret out, or make it confidential.', 'secret');
    const secret = confidential ? (input.secret === undefined ? newSecret() : validateClientSecret(input.secret)) : null;
    let client: Client;
    try {
      client = await this.store.clients.create({
        clientId,
        name: name ?? clientId,
        sealedSecret: secret === null ? null : this.box.seal(secret, clientSecretContext(clientId)),
        redirectUris,
        postLogoutRedirectUris,
        backchannelLogoutUri,
        firstParty: input.firstParty ?? false,
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`A client with the id "${clientId}" already exists.`, 'clientId');
      throw error;
    }
    await this.audit.record('client.registered', [null], null, { actor, ip, details: { clientId, name: client.name, confidential, firstParty: client.firstParty, ...via(actor) } });
    return { client, secret };
  }

  async list(actor: Actor): Promise<Client[]> {
    requireSiteWide(actor);
    return this.store.clients.list();
  }

  async get(actor: Actor, clientId: string): Promise<Client> {
    requireSiteWide(actor);
    const client = await this.store.clients.find(clientId);
    if (!client) throw new NotFoundError(NOT_FOUND(clientId));
    return client;
  }

  /**
   * A new secret; the old one keeps working for `graceHours` (0: it stops at once), so that the
   * application's servers can be given the new one without an outage (docs/security-model.md,
   * "Client secrets"). A rotation that races another loses, with nothing changed.
   */
  async rotateSecret(actor: Actor, clientId: string, graceHours: unknown, ip: string | null = null, now = new Date()): Promise<ClientWithSecret & { previousSecretExpiresAt: Date | null }> {
    const client = await this.get(actor, clientId);
    const hours = parseGraceHours(graceHours);
    if (client.sealedSecret === null) throw new ConflictError(`"${clientId}" is a public application: it has no secret to rotate.`);
    const secret = newSecret();
    const expiresAt = hours > 0 ? new Date(now.getTime() + hours * HOUR_MS) : null;
    const rotated = await this.store.clients.rotateSecret(client.clientId, client.sealedSecret, {
      sealedSecret: this.box.seal(secret, clientSecretContext(client.clientId)),
      previous: expiresAt ? { sealedSecret: client.sealedSecret, expiresAt } : null,
    });
    if (!rotated) throw new ConflictError(`The secret of "${clientId}" was changed by someone else a moment ago. Look at the application again before rotating it.`);
    await this.audit.record('client.secret_rotated', [null], null, { actor, ip, details: { clientId, graceHours: hours, ...via(actor) } });
    return { client: (await this.store.clients.find(client.clientId)) ?? client, secret, previousSecretExpiresAt: expiresAt };
  }

  /**
   * Deletes the application and revokes everything issued to it — grants, codes, access and refresh
   * tokens — so nothing it holds works afterwards. People's sessions stay.
   */
  async delete(actor: Actor, clientId: string, ip: string | null = null): Promise<{ client: Client; revoked: number }> {
    const client = await this.get(actor, clientId);
    // The client goes first: from then on oidc-provider issues it nothing, and what it was issued is removed.
    if (!(await this.store.clients.delete(client.clientId))) throw new NotFoundError(NOT_FOUND(clientId));
    const revoked = await this.store.oidc.revokeByClientId(client.clientId);
    await this.audit.record('client.deleted', [null], null, { actor, ip, details: { clientId, name: client.name, revoked, ...via(actor) } });
    return { client, revoked };
  }

  async exists(clientId: string): Promise<boolean> {
    return (await this.store.clients.find(clientId)) !== null;
  }
}
