import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import type { FederationService } from '../federation/federation-service.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import { DuplicateError, type Organization, type Role, type Store, type User } from '../store/types.js';
import type { AccountLifecycle, DeletionInput } from './account-lifecycle.js';
import { accountStatus, type AccountStatus } from './account-status.js';
import { actsSiteWide, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import { disableTwoFactorOf, strongestFactorOf, type MemberRow } from './members.js';
import type { Organizations } from './organizations.js';
import type { PasswordLinks } from './password-links.js';
import type { SecondFactorService } from './second-factors.js';
import { isRecordId, normalizeEmail, parsePageNumber, validateName, validatePassword } from './validation.js';

export interface CreateUserInput {
  readonly email: string;
  readonly name?: string;
  readonly password?: string;
  readonly orgs?: ReadonlyArray<{ readonly slug: string; readonly role: Role }>;
  readonly siteAdmin?: boolean;
}

export interface UserProfile extends Omit<MemberRow, 'deadline' | 'overdue'> {
  readonly organizations: Organization[];
  readonly managedBy: Organization | null;
  readonly status: AccountStatus;
}

/** A user as the site console's search lists them. */
export interface UserListRow {
  readonly user: User;
  readonly organizations: ReadonlyArray<{ readonly organization: Organization; readonly role: Role }>;
  /** What second factors they have; `recoveryCodesRemaining` is null when they have none. */
  readonly factors: { readonly app: boolean; readonly securityKeys: number; readonly recoveryCodesRemaining: number | null };
  readonly status: AccountStatus;
}

export interface UserSearchPage {
  /** The text searched for, trimmed; empty lists everyone. */
  readonly query: string;
  readonly rows: readonly UserListRow[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
}

const USER_PAGE_SIZE = 25;
const MAX_QUERY_LENGTH = 254;

/** The search text from a query string: a string of at most 254 characters (absent: everyone). */
function parseQuery(raw: unknown): string {
  if (raw === undefined) return '';
  if (typeof raw !== 'string') throw new ValidationError('Search for one text at a time.', 'q');
  const text = raw.trim();
  if (text.length > MAX_QUERY_LENGTH) throw new ValidationError(`The search text may have at most ${MAX_QUERY_LENGTH} characters.`, 'q');
  return text;
}

/**
 * Accounts, as site admins and the operator handle them: creating them, finding anyone, the
 * break-glass reset of anyone's second factor, suspending and deleting anyone's account, and handing
 * an account to its organization's identity provider and back (docs/security-model.md, "Managed accounts").
 */
export class Users {
  constructor(
    private readonly store: Pick<Store, 'users' | 'memberships' | 'organizations' | 'secondFactors' | 'securityKeys'>,
    private readonly organizations: Organizations,
    private readonly secondFactors: SecondFactorService,
    private readonly federation: FederationService,
    private readonly passwordLinks: PasswordLinks,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditLog,
    private readonly lifecycle: AccountLifecycle,
  ) {}

  #requireSiteWide(actor: Actor): void {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can do this.');
  }

  /**
   * Creates an account, with memberships. Without a password it is made for an organization's
   * identity provider, which then manages it — a deliberate choice of the operator or a site admin.
   */
  async create(actor: Actor, input: CreateUserInput): Promise<User> {
    this.#requireSiteWide(actor);
    const email = normalizeEmail(input.email);
    const organizations = await Promise.all((input.orgs ?? []).map(async ({ slug, role }) => ({ organization: await this.organizations.get(actor, slug), role })));
    const federated = organizations.filter(({ organization }) => organization.federation !== null);
    if (input.password === undefined) {
      if (federated.length === 0) throw new ValidationError('A password is required unless the user belongs to an organization that signs in at its own identity provider.', 'password');
      if (federated.length > 1) throw new ValidationError('A user without a password signs in at one organization\'s identity provider: name only one such organization.', 'password');
      if (input.siteAdmin) throw new ValidationError('A site admin signs in here and needs a password.', 'password');
      if (organizations.some(({ role }) => role === 'owner')) throw new ValidationError('An owner signs in here and needs a password, so that no identity provider can lock them out.', 'password');
    }
    const passwordHash = input.password === undefined ? null : await this.hasher.hash(validatePassword(input.password));
    let user: User;
    try {
      user = await this.store.users.create({
        email,
        name: input.name === undefined ? email.split('@')[0]! : validateName(input.name, 'user'),
        passwordHash,
        siteAdmin: input.siteAdmin ?? false,
        managedBy: input.password === undefined ? federated[0]!.organization.id : null,
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`A user with the email "${email}" already exists.`);
      throw error;
    }
    for (const { organization, role } of organizations) {
      await this.store.memberships.put(organization.id, user.id, role);
      await this.audit.record('member.added', [organization.id], user, { actor, details: { role, via: actor === null ? 'command line' : 'site admin' } });
    }
    return user;
  }

  async isEmpty(): Promise<boolean> {
    return (await this.store.users.count()) === 0;
  }

  async byEmail(actor: Actor, email: string): Promise<User> {
    this.#requireSiteWide(actor);
    const normalized = normalizeEmail(email);
    const user = await this.store.users.findByEmail(normalized);
    if (!user) throw new NotFoundError(`There is no user with the email "${normalized}".`);
    return user;
  }

  /**
   * Anyone on the site whose email or name contains the text, a page at a time, each with their
   * organizations, second factors, last sign-in and status — read in a fixed number of queries.
   */
  async search(actor: Actor, query: unknown, page: unknown): Promise<UserSearchPage> {
    this.#requireSiteWide(actor);
    const text = parseQuery(query);
    const current = parsePageNumber(page);
    const { users, total } = await this.store.users.search(text, { limit: USER_PAGE_SIZE, offset: (current - 1) * USER_PAGE_SIZE });
    const ids = users.map((user) => user.id);
    const [memberships, remaining, apps, keys] = await Promise.all([
      this.store.memberships.listByUsers(ids),
      this.store.secondFactors.recoveryCodesRemaining(ids),
      this.store.secondFactors.appsAmong(ids),
      this.store.securityKeys.countAmong(ids),
    ]);
    const organizations = new Map((await this.store.organizations.findByIds([...new Set(memberships.map((membership) => membership.organizationId))])).map((organization) => [organization.id, organization]));
    const rows = users.map((user): UserListRow => ({
      user,
      organizations: memberships
        .filter((membership) => membership.userId === user.id && organizations.has(membership.organizationId))
        .map((membership) => ({ organization: organizations.get(membership.organizationId)!, role: membership.role })),
      factors: { app: apps.has(user.id), securityKeys: keys.get(user.id) ?? 0, recoveryCodesRemaining: remaining.get(user.id) ?? null },
      status: accountStatus(user),
    }));
    return { query: text, rows, total, page: current, pages: Math.max(1, Math.ceil(total / USER_PAGE_SIZE)) };
  }

  async profile(actor: Actor, userId: string): Promise<UserProfile> {
    this.#requireSiteWide(actor);
    const user = isRecordId(userId) ? await this.store.users.findById(userId) : null;
    if (!user) throw new NotFoundError('There is no such user.');
    const secondFactor = await this.store.secondFactors.find(user.id);
    const keys = await this.store.securityKeys.countAmong([user.id]);
    const memberships = await this.store.memberships.listByUser(user.id);
    const organizations = await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId));
    return {
      user,
      role: 'member',
      enrolled: secondFactor !== null,
      recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor),
      securityKeys: keys.get(user.id) ?? 0,
      strongestFactor: strongestFactorOf(secondFactor !== null, keys.get(user.id) ?? 0),
      organizations,
      managedBy: organizations.find((organization) => organization.id === user.managedBy) ?? null,
      status: accountStatus(user),
    };
  }

  /**
   * Anyone's lost-device reset, by a site admin or — when the last site admin is locked out — the
   * operator (break-glass). Audited, the user signed out everywhere and e-mailed.
   */
  async disableTwoFactor(actor: Actor, userId: string, ip: string | null, reason?: string): Promise<User> {
    const { user } = await this.profile(actor, userId);
    if (actor === null && !reason?.trim()) throw new ValidationError('Say why (it is kept in the audit log and e-mailed to the user).', 'reason');
    return disableTwoFactorOf(this.secondFactors, actor, user, ip, reason);
  }

  /** Suspends anyone's account (site admins and the operator; never the last active site admin). */
  async suspend(actor: Actor, userId: string, reason: string | undefined, ip: string | null): Promise<User> {
    const { user } = await this.profile(actor, userId);
    await this.lifecycle.suspend(actor, user, reason, ip);
    return user;
  }

  async reactivate(actor: Actor, userId: string, reason: string | undefined, ip: string | null): Promise<User> {
    const { user } = await this.profile(actor, userId);
    await this.lifecycle.reactivate(actor, user, reason, ip);
    return user;
  }

  /** Deletes anyone's account with its personal data; the actor types its email to confirm. */
  async delete(actor: Actor, userId: string, input: DeletionInput, ip: string | null): Promise<User> {
    const { user } = await this.profile(actor, userId);
    await this.lifecycle.delete(actor, user, input, ip);
    return user;
  }

  /** Hands a member's account to their organization's identity provider. */
  async handTo(actor: Actor, userId: string, slug: string, ip: string | null): Promise<User> {
    const { user, organizations } = await this.profile(actor, userId);
    const organization = organizations.find((candidate) => candidate.slug === slug);
    if (!organization) throw new ValidationError(`${user.email} is not a member of ${(await this.organizations.get(actor, slug)).name}.`, 'organization');
    await this.federation.setManagedBy(actor, user, organization, ip);
    return user;
  }

  /** Takes an account back from an identity provider: it signs in here again, after setting a password from the e-mailed link. */
  async returnToPassword(actor: Actor, userId: string, ip: string | null): Promise<User> {
    const { user } = await this.profile(actor, userId);
    if (user.managedBy === null) throw new ConflictError(`${user.email} already signs in with a password here.`);
    await this.federation.setManagedBy(actor, user, null, ip);
    await this.passwordLinks.sendInvitation(user, null, actor?.email ?? 'The site operator');
    return user;
  }
}
