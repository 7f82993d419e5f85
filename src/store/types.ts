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
  /**
   * The organization whose identity provider manages this account: it signs in there and has no
   * password here. Null for every other account (docs/security-model.md, "Managed accounts").
   */
  readonly managedBy: string | null;
  readonly createdAt: Date;
  readonly lastSignInAt: Date | null;
  /**
   * When the account was suspended: it cannot sign in, and nothing it was given works. Null while it
   * is active (docs/rules.md, "People leave").
   */
  readonly suspendedAt: Date | null;
}

export interface NewUser {
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string | null;
  readonly siteAdmin: boolean;
  readonly managedBy?: string | null;
}

/** An organization's own identity provider: the accounts it manages sign in there. */
export interface Federation {
  readonly issuer: string;
  readonly clientId: string;
  /** Sealed with the SecretBox. */
  readonly sealedClientSecret: string;
  /** Email domains a site admin assigned to the organization (lower case); may be empty. */
  readonly domains: readonly string[];
  /** A site admin lets this provider's own second factor (`amr`) count as Twofold's. */
  readonly trustedForTwoFactor: boolean;
}

/** Whom Force Two-Factor Authentication covers. */
export type ApplyTo = 'all' | 'owners';

/** Which second factor an organization's members must have (docs/rules.md, "Phishing-resistant sign-in"). */
export type RequiredFactor = 'any' | 'security-key';

/** How an organization rolls enforcement out (docs/rules.md, "Rolling enforcement out", "Remembered browsers"). */
export interface RolloutSettings {
  /** Days a member without a second factor may put setup off, 0–90. */
  readonly gracePeriodDays: number;
  /** Days a browser may be remembered after a second factor, 0–90 (0: never). */
  readonly rememberBrowserDays: number;
  readonly applyTo: ApplyTo;
  /** Which second factor members must have: any, or a security key or passkey. */
  readonly requiredFactor: RequiredFactor;
  /** A member's first second factor needs a code e-mailed to them as well. */
  readonly confirmSetupByEmail: boolean;
}

export interface Organization extends RolloutSettings {
  readonly id: string;
  /** Lower-case letters, digits and dashes; unique. */
  readonly slug: string;
  readonly name: string;
  readonly forceTwoFactor: boolean;
  /** The first time enforcement was switched on; kept when it is switched off. Null if never. */
  readonly enforcementStartedAt: Date | null;
  /** The first time the organization required a security key or passkey; kept when it stops. Null if never. */
  readonly keysRequiredSince: Date | null;
  readonly federation: Federation | null;
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
  /**
   * The secret before the last rotation, sealed, while it still works: until `previousSecretExpiresAt`
   * (docs/security-model.md, "Client secrets"). Null when there is none.
   */
  readonly previousSealedSecret: string | null;
  readonly previousSecretExpiresAt: Date | null;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  /** Where the application takes logout tokens (OpenID Connect Back-Channel Logout 1.0); null when it takes none. */
  readonly backchannelLogoutUri: string | null;
  /** First-party clients skip the consent page. */
  readonly firstParty: boolean;
  readonly createdAt: Date;
}

export type NewClient = Omit<Client, 'createdAt' | 'previousSealedSecret' | 'previousSecretExpiresAt' | 'backchannelLogoutUri'> & {
  readonly backchannelLogoutUri?: string | null;
};

/** A rotated secret: the new one, and the old one while it keeps working (or null when it stops at once). */
export interface SecretRotation {
  readonly sealedSecret: string;
  readonly previous: { readonly sealedSecret: string; readonly expiresAt: Date } | null;
}

/** A unique key (email, slug, client id, federated domain, identity link) already exists; `field` names it. */
export class DuplicateError extends Error {
  override name = 'DuplicateError';
  constructor(readonly field: string) {
    super(`duplicate ${field}`);
  }
}

export interface UserRepository {
  create(user: NewUser): Promise<User>;
  /**
   * Creates many users, all or none: a duplicate email, in the store or within the batch, rejects the
   * batch with DuplicateError and leaves none of its users behind. Not isolated on MongoDB (no
   * multi-document transaction without a replica set): it deletes the part of a failed batch that got
   * in, so others may see those users until then, and a connection lost in between can leave them.
   */
  createMany(users: readonly NewUser[]): Promise<User[]>;
  findById(id: string): Promise<User | null>;
  /** The email is matched case-insensitively. */
  findByEmail(email: string): Promise<User | null>;
  findByIds(ids: readonly string[]): Promise<User[]>;
  /**
   * Users whose email or name contains `text` (case-insensitive, literally: no character is a
   * pattern), by email, one page of them, and how many match in all. An empty `text` matches everyone.
   */
  search(text: string, page: { limit: number; offset: number }): Promise<{ users: User[]; total: number }>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /**
   * Hands the account to an organization's identity provider, removing its local password; null
   * hands it back (it then needs a password set here).
   */
  setManagedBy(id: string, organizationId: string | null): Promise<void>;
  /** Users whose email is at exactly this domain, by email: at most `limit` of them, and how many in all. */
  listByEmailDomain(domain: string, limit: number): Promise<{ users: User[]; total: number }>;
  /** The accounts this organization's identity provider manages, by email. */
  listManagedBy(organizationId: string): Promise<User[]>;
  recordSignIn(id: string, at: Date): Promise<void>;
  count(): Promise<number>;
  /**
   * Suspends the account at `at`, unless it is suspended already or it is the last active site admin
   * (a site admin not suspended): then nothing changes. Of racing calls one suspends, and of two site
   * admins suspending each other at once at least one stays active. On MongoDB the last-site-admin
   * check follows the write, which is undone when it finds no active site admin left.
   */
  suspend(id: string, at: Date): Promise<'suspended' | 'already-suspended' | 'last-site-admin' | 'not-found'>;
  /** Lifts the suspension; returns whether the account was suspended. */
  reactivate(id: string): Promise<boolean>;
}

export interface OrganizationRepository {
  create(organization: NewOrganization): Promise<Organization>;
  findById(id: string): Promise<Organization | null>;
  findBySlug(slug: string): Promise<Organization | null>;
  findByIds(ids: readonly string[]): Promise<Organization[]>;
  /** Switching it on records `at` as the enforcement start, unless one is recorded already. */
  setForceTwoFactor(id: string, on: boolean, at: Date): Promise<void>;
  /** Requiring a security key or passkey records `at` as when keys were first required, unless one is recorded already. */
  setRollout(id: string, settings: RolloutSettings, at: Date): Promise<void>;
  rename(id: string, name: string): Promise<void>;
  /**
   * Deletes the organization with its memberships, membership invitations, email domains and adoption
   * snapshots; the accounts stay. Accounts it managed are left managed by no one. Its audit events are
   * kept (they are pruned by age like any other). Returns whether it existed. Not atomic on MongoDB (no
   * multi-document transaction there): the organization goes first, then what belonged to it.
   */
  delete(id: string): Promise<boolean>;
  /**
   * Sets the organization's identity provider and its email domains, or removes both (null), in one
   * step: a domain another organization holds rejects the call with DuplicateError('domain') and
   * changes nothing. The domains must be distinct (SQLite refuses a repeated one, MongoDB keeps it).
   */
  setFederation(id: string, federation: Federation | null): Promise<void>;
  /** The federated organization that claims this email domain, if any. */
  findByFederatedDomain(domain: string): Promise<Organization | null>;
  list(): Promise<Organization[]>;
}

export interface MembershipRepository {
  /** Adds the membership, or changes the role of an existing one. */
  put(organizationId: string, userId: string, role: Role): Promise<Membership>;
  /**
   * `put` for each entry. Not all or none on MongoDB (one bulk write, no transaction): a failure can
   * leave some entries applied there. `put` is idempotent, so sending the batch again completes it.
   */
  putMany(entries: readonly { organizationId: string; userId: string; role: Role }[]): Promise<void>;
  remove(organizationId: string, userId: string): Promise<boolean>;
  find(organizationId: string, userId: string): Promise<Membership | null>;
  listByUser(userId: string): Promise<Membership[]>;
  listByOrganization(organizationId: string): Promise<Membership[]>;
  /** The memberships of all these users, in one query for any number of them. */
  listByUsers(userIds: readonly string[]): Promise<Membership[]>;
  /**
   * The owners of these organizations, oldest first, in one query: an organization has a few, however
   * many members it has (a sign-in's challenge page names them, so this is on the sign-in's path).
   */
  listOwners(organizationIds: readonly string[]): Promise<Membership[]>;
  /**
   * How many members an organization has — all of them, or its owners only — and how many of those
   * have a second factor: counted by the store, without reading the members (an organization may
   * have 100 000, and the hourly adoption snapshot counts every organization that enforces).
   */
  countAdoption(organizationId: string, among: ApplyTo): Promise<{ members: number; enrolled: number }>;
}

export interface ClientRepository {
  create(client: NewClient): Promise<Client>;
  find(clientId: string): Promise<Client | null>;
  list(): Promise<Client[]>;
  /**
   * Replaces the secret, if it still is `currentSealedSecret`: of two racing rotations one wins and the
   * other gets false (and so does a client that does not exist).
   */
  rotateSecret(clientId: string, currentSealedSecret: string, rotation: SecretRotation): Promise<boolean>;
  /** Returns whether it existed. What oidc-provider issued to it is revoked separately (`oidc.revokeByClientId`). */
  delete(clientId: string): Promise<boolean>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
}

/**
 * Long-lived generated material (signing keys, cookie keys). `getOrCreate` returns the stored value,
 * storing one from `create` when there is none. Of racing callers, in one process or several, the
 * first to store wins and all of them get its value; `create` may run in the others too, and their
 * values are dropped.
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
  /**
   * Deletes the models of this kind issued under the grant (oidc-provider calls it once per token
   * model). Other kinds — a pending Interaction that names the grant — are kept.
   */
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /**
   * Deletes everything issued to the client, of every kind: grants, codes, access and refresh tokens.
   * Sessions stay (they belong to the person, not to one application). Returns how many were deleted.
   */
  revokeByClientId(clientId: string): Promise<number>;
  /**
   * Ends an account's sign-ins: deletes every model stored with its account id (sessions, grants,
   * codes, tokens) except the session `exceptSessionId` and the grants it holds, with what was issued
   * under them. Returns how many sessions were ended. Not atomic on MongoDB (no multi-document
   * transaction there): a model saved while it runs may outlive it.
   */
  endSessionsOf(accountId: string, exceptSessionId?: string): Promise<number>;
  /** The account's live sessions, each with its id (which `endSessionsOf` may keep). */
  sessionsOf(accountId: string): Promise<Array<{ readonly id: string; readonly payload: OidcPayload }>>;
  /** Deletes every expired row; returns how many. MongoDB also expires rows by a TTL index. */
  purgeExpired(now?: Date): Promise<number>;
}

export interface RecoveryCode {
  readonly id: string;
  /** argon2id of the normalized code, keyed with a server-side secret. */
  readonly hash: string;
  readonly usedAt: Date | null;
}

/**
 * A user's second factor: the TOTP credential and the recovery codes, one aggregate. It exists while
 * the user has an authenticator app, a security key, or both (docs/rules.md, "Security keys and
 * passkeys"): the recovery codes serve every factor, so a user with only keys has one too.
 */
export interface SecondFactor {
  readonly userId: string;
  /** The TOTP secret, sealed with the SecretBox; null when the user has only security keys. */
  readonly sealedSecret: string | null;
  readonly enabledAt: Date;
  /** The last TOTP time step accepted; a code from this step or an earlier one is a replay. */
  readonly lastTimeStep: number;
  /** Which key the recovery code hashes were keyed with (for key rotation). */
  readonly recoveryKeyId: string;
  readonly recoveryCodes: readonly RecoveryCode[];
}

export interface NewSecondFactor {
  readonly userId: string;
  readonly sealedSecret: string | null;
  readonly lastTimeStep: number;
  readonly recoveryKeyId: string;
  readonly recoveryCodeHashes: readonly string[];
}

export interface SecondFactorRepository {
  find(userId: string): Promise<SecondFactor | null>;
  /** Which of these users have a second factor (for member lists). */
  enrolledAmong(userIds: readonly string[]): Promise<Set<string>>;
  /** Which of these users have an authenticator app (a second factor with a TOTP secret, not only keys). */
  appsAmong(userIds: readonly string[]): Promise<Set<string>>;
  /**
   * What a member list shows of these users' second factors, in one query for any number of them: for
   * each enrolled user, how many recovery codes are still unused (0 when all are). Users without a
   * second factor are not in the map.
   */
  recoveryCodesRemaining(userIds: readonly string[]): Promise<Map<string, number>>;
  /** Saves a new second factor unless the user already has one; returns whether it was saved. */
  enable(secondFactor: NewSecondFactor): Promise<boolean>;
  /**
   * Records `timeStep` as the last accepted one if it is newer than the stored one. Returns false for
   * a replay — also for the loser of two racing requests with the same code.
   */
  acceptTimeStep(userId: string, timeStep: number): Promise<boolean>;
  /** Marks a recovery code used if it was unused; returns whether this call used it. */
  useRecoveryCode(userId: string, codeId: string): Promise<boolean>;
  /**
   * Puts a new TOTP secret in place of the old one (a new phone) — or adds the first one for a user
   * with only security keys — with the time step its first code was accepted at; the recovery codes
   * stay. Returns false when the user has no second factor.
   */
  replaceSecret(userId: string, sealedSecret: string, lastTimeStep: number): Promise<boolean>;
  /** Replaces the whole set of recovery codes. Returns false when the user has no second factor. */
  replaceRecoveryCodes(userId: string, recoveryKeyId: string, hashes: readonly string[]): Promise<boolean>;
  /** Deletes the secret, every security key and every recovery code; returns whether there was anything to delete. */
  disable(userId: string): Promise<boolean>;
}

/** A security key or passkey (a WebAuthn credential), part of its user's second factor. */
export interface SecurityKey {
  /** The credential id the authenticator chose, base64url; unique across all users. */
  readonly credentialId: string;
  readonly userId: string;
  /** The name the user gave it ("Blue YubiKey"). */
  readonly name: string;
  /** The COSE public key, base64url. */
  readonly publicKey: string;
  /** The last signature counter accepted; 0 for authenticators that keep none. */
  readonly counter: number;
  readonly transports: readonly string[];
  /** A passkey that syncs between devices (backup eligible) rather than one bound to one device. */
  readonly synced: boolean;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

export type NewSecurityKey = Omit<SecurityKey, 'createdAt' | 'lastUsedAt'>;

/** Recovery codes for a user's first factor, when a security key is it. */
export interface FirstFactorCodes {
  readonly recoveryKeyId: string;
  readonly recoveryCodeHashes: readonly string[];
}

export interface SecurityKeyRepository {
  /**
   * Saves the key. When the user has no second factor yet, it is created in the same step — no app,
   * these recovery codes — and `first` is true. A credential id already saved (for anyone) rejects
   * the call with DuplicateError('credential id') and changes nothing. Not atomic on MongoDB: a
   * connection lost between the two writes can leave the second factor without its key.
   */
  add(key: NewSecurityKey, codes: FirstFactorCodes): Promise<{ first: boolean }>;
  find(credentialId: string): Promise<SecurityKey | null>;
  /** The user's keys, oldest first. */
  listByUser(userId: string): Promise<SecurityKey[]>;
  /**
   * Records a use at `at` with the authenticator's new signature counter, if it moved forward: it
   * must be greater than the stored one, or both be 0 (an authenticator that keeps no counter).
   * Returns false otherwise — a counter that went backwards (a cloned key), or the loser of two
   * racing uses — and records nothing.
   */
  recordUse(credentialId: string, counter: number, at: Date): Promise<boolean>;
  /**
   * Removes one of the user's keys. When it was the user's last factor (no app, no other key), the
   * whole second factor goes with it, recovery codes included: 'removed-last' — unless
   * `keepLastFactor` (a rule requires one), when nothing is removed: 'last-factor-kept'. Decided in
   * one conditional step, so that removals racing over a user's keys never leave that user with none.
   */
  remove(userId: string, credentialId: string, options?: { readonly keepLastFactor?: boolean }): Promise<'removed' | 'removed-last' | 'last-factor-kept' | 'not-found'>;
  /** How many keys each of these users has; users without keys are not in the map. */
  countAmong(userIds: readonly string[]): Promise<Map<string, number>>;
}

/**
 * A TOTP setup in progress: the secret lives here, server-side, until the user proves it. Afterwards
 * (and after a regeneration) the new recovery codes wait here, sealed, until the user has seen them.
 */
export interface PendingEnrollment {
  readonly id: string;
  readonly userId: string;
  /** Null when the row only carries regenerated recovery codes. */
  readonly sealedSecret: string | null;
  readonly sealedRecoveryCodes: string | null;
  readonly expiresAt: Date;
}

export interface PendingEnrollmentRepository {
  put(enrollment: PendingEnrollment): Promise<void>;
  /** An expired enrollment is not found. */
  find(id: string): Promise<PendingEnrollment | null>;
  delete(id: string): Promise<void>;
}

/** Attempt counters for rate limits and lockouts, keyed by what is limited ("second-factor:<user>"). */
export interface AttemptState {
  readonly count: number;
  readonly lockedUntil: Date | null;
}

export interface AttemptRepository {
  /**
   * Atomically counts one more attempt and returns the state after it. A lock that has run out is
   * cleared first, starting the count again at 1. `forgetAt` only ever moves later; past it `peek`
   * ignores the row and `purgeExpired` (on MongoDB also a TTL index) deletes it, but until it is
   * deleted `charge` counts on from it.
   */
  charge(key: string, now: Date, forgetAt: Date): Promise<AttemptState>;
  /** The state without counting; null when the key has no attempts (or a lock that ran out). */
  peek(key: string, now: Date): Promise<AttemptState | null>;
  /** Locks the key until `until` unless it is locked already; returns whether this call locked it. */
  lock(key: string, until: Date, now: Date): Promise<boolean>;
  /** Forgets the key (after a success). */
  reset(key: string): Promise<void>;
  purgeExpired(now?: Date): Promise<number>;
}

/** Links a Twofold user to a subject at an upstream identity provider (issuer + sub), one each way. */
export interface IdentityLinkRepository {
  findUser(issuer: string, subject: string): Promise<string | null>;
  /** Throws DuplicateError when the subject, or the user at that issuer, is already linked. */
  link(issuer: string, subject: string, userId: string): Promise<void>;
}

export type AuditAction =
  | 'policy.changed'
  | 'policy.rollout_changed'
  | 'remembered_browser.added'
  | 'remembered_browser.removed'
  | 'site.two_factor_mode_changed'
  | 'site.setup_confirmation_changed'
  | 'setup.email_code_exhausted'
  | 'second_factor.reported'
  | 'member.added'
  | 'member.removed'
  | 'member.role_changed'
  | 'member.invited'
  | 'member.joined'
  | 'member.invitation_declined'
  | 'member.invitation_withdrawn'
  | 'two_factor.enabled'
  | 'two_factor.disabled'
  | 'two_factor.reset_by_admin'
  | 'recovery_code.used'
  | 'recovery_codes.regenerated'
  | 'second_factor.locked'
  | 'passcode.replayed'
  | 'federation.changed'
  | 'federation.domains_changed'
  | 'federation.trust_changed'
  | 'federation.linked'
  | 'federation.link_refused'
  | 'account.managed_by_changed'
  | 'account.password_set'
  | 'account.password_changed'
  | 'account.password_reset'
  | 'two_factor.replaced'
  | 'security_key.added'
  | 'security_key.removed'
  | 'security_key.counter_regressed'
  | 'email.retried'
  | 'organization.created'
  | 'organization.renamed'
  | 'organization.deleted'
  | 'client.registered'
  | 'client.secret_rotated'
  | 'client.deleted'
  | 'account.suspended'
  | 'account.reactivated'
  | 'account.deleted'
  | 'action.refused';

/** One security event, as the audit log shows it. Never holds a secret, code or password. */
export interface AuditEvent {
  readonly id: string;
  /** Null for site-wide events and for users in no organization (visible to site admins). */
  readonly organizationId: string | null;
  readonly at: Date;
  readonly action: AuditAction;
  readonly actorId: string | null;
  readonly actorEmail: string | null;
  readonly targetId: string | null;
  readonly targetEmail: string | null;
  readonly ip: string | null;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at'>;

export interface AuditRepository {
  append(events: readonly NewAuditEvent[]): Promise<void>;
  /**
   * Newest first; the events of one `append` last-first. Separate appends in the same millisecond may
   * list in either order on MongoDB, which orders by time rather than by insertion.
   */
  list(organizationId: string | null, page: { limit: number; offset: number }): Promise<{ events: AuditEvent[]; total: number }>;
  /** Deletes every event recorded before `before` (AUDIT_RETENTION_DAYS); returns how many. */
  deleteOlderThan(before: Date): Promise<number>;
}

/** An invitation to set a password: only the SHA-256 of the emailed token is stored. */
export interface InvitationRepository {
  create(tokenHash: string, userId: string, expiresAt: Date): Promise<void>;
  /** Deletes the invitation and returns its user, if it exists and has not expired; single use. */
  consume(tokenHash: string, now?: Date): Promise<string | null>;
  /** Looks without using it up. */
  find(tokenHash: string, now?: Date): Promise<string | null>;
  /** Ends every link of the user, used or not (their password just changed); returns how many. */
  removeAllOf(userId: string): Promise<number>;
}

/**
 * An owner's invitation for an existing account to join an organization. Nobody joins an
 * organization without accepting, signed in as themselves.
 */
export interface MembershipInvitation {
  readonly id: string;
  readonly organizationId: string;
  readonly userId: string;
  readonly role: Role;
  /** Who invited (a user id), or null for the operator. */
  readonly invitedBy: string | null;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export type NewMembershipInvitation = Omit<MembershipInvitation, 'id' | 'createdAt'>;

export interface MembershipInvitationRepository {
  /** Invites the user, replacing an earlier invitation of theirs to the same organization. */
  put(invitation: NewMembershipInvitation): Promise<MembershipInvitation>;
  /** Live invitations only: an expired one is not found. */
  find(id: string, now?: Date): Promise<MembershipInvitation | null>;
  listByUser(userId: string, now?: Date): Promise<MembershipInvitation[]>;
  listByOrganization(organizationId: string, now?: Date): Promise<MembershipInvitation[]>;
  /** Deletes the invitation and returns it if it was live; of two racing calls, one gets it. */
  take(id: string, now?: Date): Promise<MembershipInvitation | null>;
}

/**
 * The durable mail outbox. A message waits here, rendered and sealed, from the moment the change that
 * causes it is made until a worker has handed it to the mail server — across restarts, and with
 * several processes sharing the store, each message claimed by one worker at a time.
 */
export type OutboxState = 'pending' | 'sent' | 'failed';

/** What may be shown of a message (the site admins' list, the log): never its body, which can carry a sign-in link. */
export interface OutboxEntry {
  readonly id: string;
  /** Which of Twofold's messages it is (src/mail/messages.ts). */
  readonly message: string;
  readonly to: string;
  readonly subject: string;
  readonly state: OutboxState;
  readonly queuedAt: Date;
  /** Attempts so far; a claim counts as one, so a worker that dies while sending still uses one up. */
  readonly attempts: number;
  readonly lastError: string | null;
  /** When it was sent, or given up on; null while pending. */
  readonly finishedAt: Date | null;
}

/** A claimed message: the entry, its sealed body, and until when the worker may keep trying. */
export interface OutboxMessage extends OutboxEntry {
  readonly sealedBody: string;
  readonly giveUpAt: Date;
}

export interface NewOutboxMessage {
  /** Chosen by the caller, so that the body can be sealed to it before it is stored. */
  readonly id: string;
  readonly message: string;
  readonly to: string;
  readonly subject: string;
  readonly sealedBody: string;
  readonly queuedAt: Date;
  readonly giveUpAt: Date;
}

export interface OutboxDepth {
  /** Messages not yet sent nor given up on. */
  readonly pending: number;
  /** When the oldest of them was queued; null when none is pending. */
  readonly oldestQueuedAt: Date | null;
  /** Messages given up on, waiting for a site admin's Retry. */
  readonly failed: number;
}

export interface OutboxRepository {
  /** Stores a pending message, due at once. */
  enqueue(message: NewOutboxMessage): Promise<void>;
  /**
   * Claims up to `limit` pending messages that are due at `now` (oldest due first) for `worker`, until
   * `leaseUntil`: each is counted as an attempt and is not due again before the lease ends, so no
   * other worker — in this process or another — gets it meanwhile; a lease that runs out (its worker
   * died) makes it due again. Atomic per message: of racing claimers, exactly one gets each. `ids`
   * limits the claim to those messages.
   */
  claim(worker: string, now: Date, leaseUntil: Date, limit: number, ids?: readonly string[]): Promise<OutboxMessage[]>;
  /**
   * Records the message as sent and forgets its body. Only the worker holding its claim may (returns
   * false otherwise: the lease ran out and another worker claimed it).
   */
  markSent(id: string, worker: string, now: Date): Promise<boolean>;
  /** Releases the claim after a failed attempt: due again at `nextAttemptAt`. Only for the claim's worker. */
  reschedule(id: string, worker: string, nextAttemptAt: Date, error: string): Promise<boolean>;
  /** Gives up on the message: failed, listed for site admins, kept with its body for a Retry. Only for the claim's worker. */
  markFailed(id: string, worker: string, now: Date, error: string): Promise<boolean>;
  /** Failed messages, the most recently failed first, at most `limit`. */
  listFailed(limit: number): Promise<OutboxEntry[]>;
  /**
   * Makes a failed message pending again, due at `now`, with no attempts and until `giveUpAt`.
   * Returns it, or null when there is no failed message with that id (also for the loser of two racing retries).
   */
  retry(id: string, now: Date, giveUpAt: Date): Promise<OutboxEntry | null>;
  depth(): Promise<OutboxDepth>;
  /** Deletes sent messages that finished before `sentBefore` and failed ones before `failedBefore`; returns how many. */
  purge(sentBefore: Date, failedBefore: Date): Promise<number>;
}

/**
 * A browser the user asked to remember after a second factor: the cookie holds a random token, the
 * store only its SHA-256 (docs/rules.md, "Remembered browsers").
 */
export interface RememberedBrowser {
  readonly id: string;
  readonly userId: string;
  readonly tokenHash: string;
  /** What the account page shows to tell browsers apart (from the User-Agent header). */
  readonly description: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export interface RememberedBrowserRepository {
  create(browser: Omit<RememberedBrowser, 'id'>): Promise<RememberedBrowser>;
  findByTokenHash(tokenHash: string): Promise<RememberedBrowser | null>;
  /** The user's remembered browsers, newest first. */
  listByUser(userId: string): Promise<RememberedBrowser[]>;
  /** Forgets one of the user's browsers; returns whether it existed (and was theirs). */
  remove(userId: string, id: string): Promise<boolean>;
  /** Forgets every browser of the user; returns how many. */
  removeAllOf(userId: string): Promise<number>;
  /** Deletes the expired ones; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}

/**
 * The reminder e-mails before a setup deadline: one row per user, deadline and reminder, written
 * before the e-mail is queued, so that of several processes only one sends it.
 */
export interface DeadlineReminderRepository {
  /** Records the reminder; true for the one caller that recorded it, false when it already was. */
  claim(userId: string, deadline: Date, reminder: string, at: Date): Promise<boolean>;
}

/** How many of an organization's members had a second factor on one day (UTC, `YYYY-MM-DD`). */
export interface AdoptionSnapshot {
  readonly organizationId: string;
  readonly day: string;
  readonly members: number;
  readonly enrolled: number;
}

export interface AdoptionRepository {
  /** Saves the day's figures, replacing any saved earlier that day. */
  record(snapshot: AdoptionSnapshot): Promise<void>;
  /** The organization's snapshots from `sinceDay` on, oldest first. */
  list(organizationId: string, sinceDay: string): Promise<AdoptionSnapshot[]>;
}

/**
 * Deleting an account: every record of the person goes, in one step. What the organization's history
 * needs stays: its audit entries, with the person shown as a pseudonym (docs/rules.md, "People leave").
 */
export interface AccountErasureRepository {
  /**
   * Deletes the account and what belongs to it — memberships and invitations to organizations,
   * password links, identity links, second factor (app, security keys, recovery codes) and setups in
   * progress, remembered browsers, deadline reminders, the oidc-provider models stored with its id,
   * and every outbox message addressed to its email — and writes `pseudonym` in place of its email in
   * the audit entries it acted in or was the target of (their details included). Returns false when
   * there is no such account. All or nothing on SQLite; on MongoDB one collection after the other, the
   * account itself last, so that erasing again completes one that stopped part-way.
   */
  erase(userId: string, pseudonym: string): Promise<boolean>;
}

/**
 * A logout token to send to an application (OpenID Connect Back-Channel Logout 1.0): the session
 * `sid` of account `accountId` at client `clientId` has ended. Kept in the store from before the
 * session is destroyed until the application has taken it, like the mail outbox.
 */
export interface LogoutNotice {
  readonly id: string;
  readonly clientId: string;
  readonly accountId: string;
  readonly sid: string;
  readonly state: OutboxState;
  readonly queuedAt: Date;
  readonly giveUpAt: Date;
  /** Attempts so far; a claim counts as one. */
  readonly attempts: number;
  readonly lastError: string | null;
  readonly finishedAt: Date | null;
}

export type NewLogoutNotice = Pick<LogoutNotice, 'clientId' | 'accountId' | 'sid'>;

export interface LogoutNoticeRepository {
  /**
   * Records the notices, due at `queuedAt`, each unless one for the same session and client was
   * recorded before (sent or not): at most one per session and application, also when racing.
   * Returns the ids of those recorded now.
   */
  record(notices: readonly NewLogoutNotice[], queuedAt: Date, giveUpAt: Date): Promise<string[]>;
  /** As the mail outbox's `claim`: due notices, oldest first, leased to `worker` until `leaseUntil`; of racing claimers one gets each. */
  claim(worker: string, now: Date, leaseUntil: Date, limit: number, ids?: readonly string[]): Promise<LogoutNotice[]>;
  /** Records the notice as sent; only for the worker holding its claim. */
  markSent(id: string, worker: string, now: Date): Promise<boolean>;
  /** Releases the claim after a failed attempt: due again at `nextAttemptAt`. Only for the claim's worker. */
  reschedule(id: string, worker: string, nextAttemptAt: Date, error: string): Promise<boolean>;
  /** Gives up on the notice. Only for the claim's worker. */
  markFailed(id: string, worker: string, now: Date, error: string): Promise<boolean>;
  /** Deletes the notices that finished (sent or given up on) before `before`; returns how many. */
  purge(before: Date): Promise<number>;
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
  readonly secondFactors: SecondFactorRepository;
  readonly securityKeys: SecurityKeyRepository;
  readonly enrollments: PendingEnrollmentRepository;
  readonly attempts: AttemptRepository;
  readonly audit: AuditRepository;
  readonly invitations: InvitationRepository;
  readonly membershipInvitations: MembershipInvitationRepository;
  readonly identityLinks: IdentityLinkRepository;
  readonly outbox: OutboxRepository;
  readonly rememberedBrowsers: RememberedBrowserRepository;
  readonly deadlineReminders: DeadlineReminderRepository;
  readonly adoption: AdoptionRepository;
  readonly erasure: AccountErasureRepository;
  readonly logoutNotices: LogoutNoticeRepository;
  /** Resolves when the database answers; rejects when it is closed or cannot be reached. */
  ping(): Promise<void>;
  /**
   * Commits this process's writes so far now instead of at the end of the event loop's turn, so that
   * a response never tells of a write before it is committed (docs/security-model.md, "The embedded
   * store"). MongoDB's writes are committed when they resolve: there it does nothing.
   */
  flush(): void;
  close(): Promise<void>;
}
