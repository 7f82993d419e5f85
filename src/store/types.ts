/**
 * The repository interfaces: one per aggregate. Both stores (SQLite, MongoDB) implement every one of
 * them and pass the same contract suite (test/store/contract.ts). Nothing above this layer knows which
 * database is underneath.
 */

export type Role = 'owner' | 'member';

export interface User {
  readonly id: string;
  /** Lower-cased; unique. */
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string | null;
  readonly siteAdmin: boolean;
  readonly createdAt: Date;
  readonly lastSignInAt: Date | null;
}

export interface NewUser {
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string | null;
  readonly siteAdmin: boolean;
}

export interface Organization {
  readonly id: string;
  /** Lower-case letters, digits and dashes; unique. */
  readonly slug: string;
  readonly name: string;
  readonly forceTwoFactor: boolean;
  readonly createdAt: Date;
}

export interface NewOrganization {
  readonly slug: string;
  readonly name: string;
}

export interface Membership {
  readonly organizationId: string;
  readonly userId: string;
  readonly role: Role;
  readonly createdAt: Date;
}

export interface Client {
  readonly clientId: string;
  readonly name: string;
  /** Sealed with the SecretBox; null for a public client (PKCE, no client authentication). */
  readonly sealedSecret: string | null;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  /** First-party clients skip the consent page. */
  readonly firstParty: boolean;
  readonly createdAt: Date;
}

export type NewClient = Omit<Client, 'createdAt'>;

/** A unique key (email, slug, client id, membership) already exists. */
export class DuplicateError extends Error {
  override name = 'DuplicateError';
  constructor(readonly field: string) {
    super(`duplicate ${field}`);
  }
}

export interface UserRepository {
  create(user: NewUser): Promise<User>;
  findById(id: string): Promise<User | null>;
  /** The email is matched case-insensitively. */
  findByEmail(email: string): Promise<User | null>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  recordSignIn(id: string, at: Date): Promise<void>;
  count(): Promise<number>;
}

export interface OrganizationRepository {
  create(organization: NewOrganization): Promise<Organization>;
  findById(id: string): Promise<Organization | null>;
  findBySlug(slug: string): Promise<Organization | null>;
  findByIds(ids: readonly string[]): Promise<Organization[]>;
  setForceTwoFactor(id: string, on: boolean): Promise<void>;
  list(): Promise<Organization[]>;
}

export interface MembershipRepository {
  /** Adds the membership, or changes the role of an existing one. */
  put(organizationId: string, userId: string, role: Role): Promise<Membership>;
  remove(organizationId: string, userId: string): Promise<boolean>;
  find(organizationId: string, userId: string): Promise<Membership | null>;
  listByUser(userId: string): Promise<Membership[]>;
  listByOrganization(organizationId: string): Promise<Membership[]>;
}

export interface ClientRepository {
  create(client: NewClient): Promise<Client>;
  find(clientId: string): Promise<Client | null>;
  list(): Promise<Client[]>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
}

/**
 * Long-lived generated material (signing keys, cookie keys). `getOrCreate` is atomic across
 * processes: the first writer wins and every process reads the winner's value.
 */
export interface KeyRepository {
  getOrCreate(name: string, create: () => string): Promise<string>;
}

/** oidc-provider's models (Session, Interaction, Grant, AuthorizationCode, tokens …), stored as JSON. */
export interface OidcPayload {
  [key: string]: unknown;
  grantId?: string;
  uid?: string;
  userCode?: string;
  consumed?: number;
}

export interface OidcModelRepository {
  upsert(model: string, id: string, payload: OidcPayload, expiresAt: Date | null): Promise<void>;
  find(model: string, id: string): Promise<OidcPayload | null>;
  findByUid(model: string, uid: string): Promise<OidcPayload | null>;
  findByUserCode(model: string, userCode: string): Promise<OidcPayload | null>;
  /**
   * Marks the model consumed (epoch seconds in `consumed`) if it was not already. Returns whether this
   * call consumed it, so that of two racing redemptions exactly one wins.
   */
  consume(model: string, id: string): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
  /** Deletes every expired row; returns how many. MongoDB also expires rows by a TTL index. */
  purgeExpired(now?: Date): Promise<number>;
}

export interface Store {
  readonly kind: 'sqlite' | 'mongodb';
  readonly users: UserRepository;
  readonly organizations: OrganizationRepository;
  readonly memberships: MembershipRepository;
  readonly clients: ClientRepository;
  readonly settings: SettingsRepository;
  readonly keys: KeyRepository;
  readonly oidc: OidcModelRepository;
  close(): Promise<void>;
}
