import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { isFederated } from '../federation/federation-service.js';
import type { Mailer } from '../mail/mailer.js';
import type { Membership, MembershipInvitation, Organization, Role, Store, User } from '../store/types.js';
import { enforcesTwoFactor, keyDeadline, setupDeadline } from '../policy/second-factor.js';
import { organizationFacts } from './organization-facts.js';
import type { AccountLifecycle, DeletionInput } from './account-lifecycle.js';
import type { Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import { leavesAnOwner } from './authorization.js';
import type { Organizations } from './organizations.js';
import type { PasswordLinks } from './password-links.js';
import type { SecondFactorService } from './second-factors.js';
import { isRecordId, isSlug, normalizeEmail, validateName } from './validation.js';

export interface MemberRow {
  readonly user: User;
  readonly role: Role;
  /** Has a second factor: an authenticator app, a security key, or both. */
  readonly enrolled: boolean;
  readonly recoveryCodesRemaining: number;
  /** How many security keys and passkeys. */
  readonly securityKeys: number;
  /** The member's strongest second factor (docs/rules.md, "Phishing-resistant sign-in"): a security key or passkey over an app. */
  readonly strongestFactor: 'security-key' | 'app' | null;
  /**
   * The deadline this organization gives the member to set up a second factor (docs/rules.md,
   * "Rolling enforcement out") — or, where it requires a security key or passkey, to add one to
   * their app; null when it holds them to none, or they have what it asks. Only this
   * organization's own: what other organizations ask of the member is not its owners' business.
   */
  readonly deadline: Date | null;
  /** Past the deadline without a second factor. */
  readonly overdue: boolean;
}

/** Which members a list shows: everyone, those without a second factor, or those past their deadline. */
export type MemberFilter = 'all' | 'without-2fa' | 'overdue';

/** A security key or passkey counts over an app (docs/rules.md, "Phishing-resistant sign-in"). */
export function strongestFactorOf(enrolled: boolean, securityKeys: number): MemberRow['strongestFactor'] {
  return securityKeys > 0 ? 'security-key' : enrolled ? 'app' : null;
}

/** What a member's row says of their second factor, from what they have and the organization's current settings. */
function memberRow(organization: Organization, membership: Membership, user: User, factors: Pick<MemberRow, 'enrolled' | 'recoveryCodesRemaining' | 'securityKeys'>, now: Date): MemberRow {
  const facts = [organizationFacts(organization, membership, false)];
  const deadline = !factors.enrolled ? setupDeadline(facts) : factors.securityKeys === 0 ? keyDeadline(facts) : null;
  return {
    user,
    role: membership.role,
    ...factors,
    strongestFactor: strongestFactorOf(factors.enrolled, factors.securityKeys),
    deadline,
    overdue: deadline !== null && deadline.getTime() <= now.getTime(),
  };
}

/** One entry of the `organizations` claim. */
export interface OrganizationMembership {
  readonly slug: string;
  readonly name: string;
  readonly role: Role;
}

/** A member as an owner sees them on the confirmation page, with what the owner may do about their 2FA. */
export interface MemberDetail extends MemberRow {
  /** The account belongs to this organization alone (and is no site admin's): its owners may reset its 2FA. */
  readonly ownedHere: boolean;
}

/** An invitation still waiting: who and which role; nothing about the account itself until they accept. */
export interface PendingInvitationRow {
  readonly invitation: MembershipInvitation;
  readonly email: string;
}

/** An invitation as the invited person sees it. */
export interface ReceivedInvitation {
  readonly invitation: MembershipInvitation;
  readonly organization: Organization;
  readonly invitedBy: string | null;
}

/** What adding a member by email did. */
export type AddedMember =
  /** An existing account was invited; it joins when its owner accepts. */
  | { readonly user: User; readonly outcome: 'invited' }
  /** A new account was made and e-mailed a link to set its password. */
  | { readonly user: User; readonly outcome: 'created' }
  /** A new account was made for the organization's identity provider (an address in its domains). */
  | { readonly user: User; readonly outcome: 'created-managed' }
  /** The operator added an existing account, or changed its role. */
  | { readonly user: User; readonly outcome: 'added' | 'role-changed' | 'unchanged' };

const MEMBER_NOT_FOUND = 'That person is not a member of this organization.';
const INVITATION_NOT_FOUND = 'There is no such invitation any more. It may have expired, or been withdrawn.';
const OWNERS_SIGN_IN_HERE = (email: string) => `${email} signs in at an organization's identity provider, and owners always sign in here with a password, so that no provider can lock them out. A site admin can let them set one first.`;
const MEMBERSHIP_INVITATION_TTL_MS = 14 * 24 * 60 * 60 * 1000;

interface OwnedHereAction {
  /** The action.refused entry's `attempted`. */
  readonly attempted: string;
  /** "only a site admin can …" */
  readonly verb: string;
}

const OWNED_HERE_ONLY = {
  twoFactorReset: { attempted: 'two_factor.reset', verb: 'disable their two-factor authentication' },
  suspend: { attempted: 'account.suspend', verb: 'suspend their account' },
  reactivate: { attempted: 'account.reactivate', verb: 'reactivate their account' },
  delete: { attempted: 'account.delete', verb: 'delete their account' },
} as const satisfies Record<string, OwnedHereAction>;

export function parseRole(raw: unknown): Role {
  if (raw === 'owner' || raw === 'member') return raw;
  throw new ValidationError(`A role is owner or member, not "${String(raw)}".`, 'role');
}

/**
 * Who belongs to an organization, and what owners may do to them (docs/security-model.md). An
 * owner acts only on accounts that accepted to be in the organization, keeps at least one owner,
 * and weakens the sign-in only of accounts that belong to the organization alone. Every change is
 * audited; pages, the API and the command line all come here.
 */
export class Members {
  constructor(
    private readonly store: Pick<Store, 'users' | 'memberships' | 'membershipInvitations' | 'organizations' | 'secondFactors' | 'securityKeys'>,
    private readonly organizations: Organizations,
    private readonly secondFactors: SecondFactorService,
    private readonly passwordLinks: PasswordLinks,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly issuer: string,
    private readonly lifecycle: AccountLifecycle,
  ) {}

  /** The members with their role, two-factor status and deadline, read in a fixed number of queries. */
  async list(actor: Actor, slug: string, filter: MemberFilter = 'all', now = new Date()): Promise<MemberRow[]> {
    const organization = await this.organizations.get(actor, slug);
    const memberships = new Map((await this.store.memberships.listByOrganization(organization.id)).map((membership) => [membership.userId, membership]));
    const ids = [...memberships.keys()];
    const [users, remaining, keys] = await Promise.all([
      this.store.users.findByIds(ids),
      this.store.secondFactors.recoveryCodesRemaining(ids),
      this.store.securityKeys.countAmong(ids),
    ]);
    const rows = users.map((user) => memberRow(organization, memberships.get(user.id)!, user, {
      enrolled: remaining.has(user.id),
      recoveryCodesRemaining: remaining.get(user.id) ?? 0,
      securityKeys: keys.get(user.id) ?? 0,
    }, now));
    if (filter === 'without-2fa') return rows.filter((row) => !row.enrolled);
    if (filter === 'overdue') return rows.filter((row) => row.overdue);
    return rows;
  }

  /**
   * The organizations the person is an accepted member of, with their role — the `organizations`
   * claim (docs/rules.md, "Organizations in tokens"). Pending invitations are not memberships.
   */
  async organizationsOf(userId: string): Promise<OrganizationMembership[]> {
    const memberships = await this.store.memberships.listByUser(userId);
    const organizations = new Map((await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId))).map((organization) => [organization.id, organization]));
    return memberships
      .flatMap((membership) => {
        const organization = organizations.get(membership.organizationId);
        return organization ? [{ slug: organization.slug, name: organization.name, role: membership.role }] : [];
      })
      .sort((a, b) => a.slug.localeCompare(b.slug));
  }

  /** The organization with this slug, if there is one — for the page that tells a person they are not a member of it. */
  async organizationNamed(slug: string): Promise<Organization | null> {
    return isSlug(slug) ? this.store.organizations.findBySlug(slug) : null;
  }

  /** The names of the user's organizations that hold them to a second factor (for the grace interstitial). */
  async enforcingOrganizationNames(user: User): Promise<string[]> {
    const memberships = await this.store.memberships.listByUser(user.id);
    const organizations = await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId));
    return organizations
      .filter((organization) => enforcesTwoFactor({
        ...organization,
        managesAccount: organization.federation !== null && user.managedBy === organization.id,
        role: memberships.find((membership) => membership.organizationId === organization.id)!.role,
      }))
      .map((organization) => organization.name);
  }

  /** Invitations the organization is waiting on: the address and role only. */
  async pendingInvitations(actor: Actor, slug: string): Promise<PendingInvitationRow[]> {
    const organization = await this.organizations.get(actor, slug);
    const invitations = await this.store.membershipInvitations.listByOrganization(organization.id);
    const emails = new Map((await this.store.users.findByIds(invitations.map((invitation) => invitation.userId))).map((user) => [user.id, user.email]));
    return invitations.flatMap((invitation) => (emails.has(invitation.userId) ? [{ invitation, email: emails.get(invitation.userId)! }] : []));
  }

  async #member(organization: Organization, userId: string): Promise<{ user: User; membership: Membership }> {
    const membership = isRecordId(userId) ? await this.store.memberships.find(organization.id, userId) : null;
    const user = membership ? await this.store.users.findById(userId) : null;
    if (!membership || !user) throw new NotFoundError(MEMBER_NOT_FOUND);
    return { user, membership };
  }

  /** Whether the account is this organization's alone: a member of it and of nothing else, and no site admin. */
  async #ownedHere(organization: Organization, user: User): Promise<boolean> {
    if (user.siteAdmin) return false;
    const memberships = await this.store.memberships.listByUser(user.id);
    return memberships.length === 1 && memberships[0]!.organizationId === organization.id;
  }

  async member(actor: Actor, slug: string, userId: string): Promise<{ organization: Organization; row: MemberDetail }> {
    const organization = await this.organizations.get(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    const secondFactor = await this.store.secondFactors.find(user.id);
    const keys = await this.store.securityKeys.countAmong([user.id]);
    return {
      organization,
      row: {
        ...memberRow(organization, membership, user, {
          enrolled: secondFactor !== null,
          recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor),
          securityKeys: keys.get(user.id) ?? 0,
        }, new Date()),
        ownedHere: await this.#ownedHere(organization, user),
      },
    };
  }

  async #owners(organization: Organization): Promise<number> {
    return (await this.store.memberships.listOwners([organization.id])).length;
  }

  /**
   * Adds a member by email. Someone who already has an account is invited and joins only by accepting,
   * signed in as themselves: an owner — or a site admin at the pages — never pulls an account into an
   * organization. A new address gets a new account: managed by the organization's identity provider
   * when a site admin assigned its domain to the organization, otherwise with an e-mailed link to set
   * a password. The operator at the command line adds existing accounts directly (or changes their
   * role), under the same last-owner rule.
   */
  async add(actor: Actor, slug: string, input: { email: string; role: Role; name?: string }, ip: string | null): Promise<AddedMember> {
    const organization = await this.organizations.get(actor, slug);
    const email = normalizeEmail(input.email);
    const existing = await this.store.users.findByEmail(email);
    if (existing) {
      if (actor === null) return this.#addDirectly(organization, existing, input.role);
      if (await this.store.memberships.find(organization.id, existing.id)) throw new ConflictError(`${email} is already a member of ${organization.name}.`);
      await this.store.membershipInvitations.put({
        organizationId: organization.id,
        userId: existing.id,
        role: input.role,
        invitedBy: actor.id,
        expiresAt: new Date(Date.now() + MEMBERSHIP_INVITATION_TTL_MS),
      });
      await this.audit.record('member.invited', [organization.id], existing, { actor, ip, details: { role: input.role, account: 'existing' } });
      await this.mailer.send({
        to: email,
        message: 'membership-invitation',
        locals: { organizationName: organization.name, invitedBy: actor.email, role: input.role, link: `${this.issuer}/account/invitations` },
      });
      return { user: existing, outcome: 'invited' };
    }

    const name = input.name ? validateName(input.name, 'member') : email.split('@')[0]!;
    // Owners always sign in here (no identity provider can lock them out), so only a new member's account is managed.
    const managed = input.role === 'member' && isFederated(organization) && organization.federation.domains.includes(email.split('@')[1]!);
    const user = await this.store.users.create({ email, name, passwordHash: null, siteAdmin: false, managedBy: managed ? organization.id : null });
    await this.store.memberships.put(organization.id, user.id, input.role);
    const invitedBy = actor?.email ?? 'The site operator';
    if (managed) await this.mailer.send({ to: email, message: 'account-managed-elsewhere', locals: { organizationName: organization.name, invitedBy } });
    else await this.passwordLinks.sendInvitation(user, organization.name, invitedBy);
    await this.audit.record('member.invited', [organization.id], user, { actor, ip, details: { role: input.role, account: managed ? 'new, managed by the identity provider' : 'new' } });
    return { user, outcome: managed ? 'created-managed' : 'created' };
  }

  async #addDirectly(organization: Organization, user: User, role: Role): Promise<AddedMember> {
    const membership = await this.store.memberships.find(organization.id, user.id);
    if (membership?.role === role) return { user, outcome: 'unchanged' };
    if (membership) {
      await this.setRole(null, organization.slug, user.id, role, null);
      return { user, outcome: 'role-changed' };
    }
    await this.store.memberships.put(organization.id, user.id, role);
    await this.audit.record('member.added', [organization.id], user, { actor: null, details: { role, via: 'command line' } });
    return { user, outcome: 'added' };
  }

  async withdrawInvitation(actor: Actor, slug: string, invitationId: string, ip: string | null): Promise<void> {
    const organization = await this.organizations.get(actor, slug);
    const invitation = isRecordId(invitationId) ? await this.store.membershipInvitations.find(invitationId) : null;
    if (!invitation || invitation.organizationId !== organization.id) throw new NotFoundError(INVITATION_NOT_FOUND);
    const taken = await this.store.membershipInvitations.take(invitation.id);
    if (!taken) throw new NotFoundError(INVITATION_NOT_FOUND);
    await this.audit.record('member.invitation_withdrawn', [organization.id], await this.store.users.findById(taken.userId), { actor, ip });
  }

  /**
   * Removes the member. With `suspendAccount` — offered for an account of this organization alone,
   * which nobody else would then look after — the account is suspended first (docs/rules.md, "People
   * leave"), under the same rules as Suspend account.
   */
  async remove(actor: Actor, slug: string, userId: string, ip: string | null, { suspendAccount }: { suspendAccount?: { reason: string | undefined } } = {}): Promise<User> {
    const organization = await this.organizations.get(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    if (!leavesAnOwner(await this.#owners(organization), membership.role === 'owner', 'remove')) {
      throw new ConflictError(`${user.email} is the last owner of ${organization.name}. Make someone else an owner first.`);
    }
    if (suspendAccount) {
      await this.#requireOwnedHere(actor, organization, user, ip, OWNED_HERE_ONLY.suspend);
      await this.lifecycle.suspend(actor, user, suspendAccount.reason, ip);
    }
    await this.store.memberships.remove(organization.id, user.id);
    await this.audit.record('member.removed', [organization.id], user, { actor, ip });
    return user;
  }

  async setRole(actor: Actor, slug: string, userId: string, role: Role, ip: string | null): Promise<User> {
    const organization = await this.organizations.get(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    if (membership.role === role) return user;
    if (role === 'owner' && user.managedBy !== null) throw new ConflictError(OWNERS_SIGN_IN_HERE(user.email));
    if (!leavesAnOwner(await this.#owners(organization), membership.role === 'owner', role === 'owner' ? 'promote' : 'demote')) {
      throw new ConflictError(`${user.email} is the last owner of ${organization.name}. Make someone else an owner first.`);
    }
    await this.store.memberships.put(organization.id, user.id, role);
    await this.audit.record('member.role_changed', [organization.id], user, { actor, ip, details: { from: membership.role, to: role } });
    return user;
  }

  /**
   * Seed 003's lost device: delete the member's factors, end their sessions, e-mail them. An owner may
   * do it only for an account that belongs to their organization alone; anyone else's — a member of
   * another organization too, a site admin — needs a site admin, and the attempt is recorded.
   */
  async disableTwoFactor(actor: Actor, slug: string, userId: string, ip: string | null, reason?: string): Promise<User> {
    const organization = await this.organizations.get(actor, slug);
    const { user } = await this.#member(organization, userId);
    await this.#requireOwnedHere(actor, organization, user, ip, OWNED_HERE_ONLY.twoFactorReset);
    return disableTwoFactorOf(this.secondFactors, actor, user, ip, reason);
  }

  /**
   * What an owner may do only to an account that belongs to their organization alone — weaken its
   * sign-in, suspend or delete it (docs/security-model.md). Anyone else's needs a site admin: the
   * page says so, nothing changes, and the attempt is recorded.
   */
  async #requireOwnedHere(actor: Actor, organization: Organization, user: User, ip: string | null, action: OwnedHereAction): Promise<void> {
    if (actor === null || actor.siteAdmin || (await this.#ownedHere(organization, user))) return;
    await this.audit.record('action.refused', [organization.id], user, { actor, ip, details: { attempted: action.attempted, reason: user.siteAdmin ? 'site admin' : 'also in another organization' } });
    throw new ForbiddenError(user.siteAdmin
      ? `${user.email} is a site admin; only another site admin can ${action.verb}.`
      : `${user.email} also belongs to another organization, so only a site admin can ${action.verb}. Ask a site admin of this site.`);
  }

  /** Suspends a member's account (docs/rules.md, "People leave"); for an owner, only an account of this organization alone. */
  async suspend(actor: Actor, slug: string, userId: string, reason: string | undefined, ip: string | null): Promise<User> {
    const user = await this.#ownAccount(actor, slug, userId, ip, OWNED_HERE_ONLY.suspend);
    await this.lifecycle.suspend(actor, user, reason, ip);
    return user;
  }

  async reactivate(actor: Actor, slug: string, userId: string, reason: string | undefined, ip: string | null): Promise<User> {
    const user = await this.#ownAccount(actor, slug, userId, ip, OWNED_HERE_ONLY.reactivate);
    await this.lifecycle.reactivate(actor, user, reason, ip);
    return user;
  }

  /** Deletes a member's account with its personal data; the owner types its email to confirm. */
  async deleteAccount(actor: Actor, slug: string, userId: string, input: DeletionInput, ip: string | null): Promise<User> {
    const user = await this.#ownAccount(actor, slug, userId, ip, OWNED_HERE_ONLY.delete);
    await this.lifecycle.delete(actor, user, input, ip);
    return user;
  }

  /**
   * The account of a member that the actor may suspend or delete. An id that names someone outside
   * the organization gets the same "not a member" as one that names nobody, and the attempt is
   * recorded where that person's own organizations see it.
   */
  async #ownAccount(actor: Actor, slug: string, userId: string, ip: string | null, action: OwnedHereAction): Promise<User> {
    const organization = await this.organizations.get(actor, slug);
    let user: User;
    try {
      ({ user } = await this.#member(organization, userId));
    } catch (error) {
      const stranger = error instanceof NotFoundError && isRecordId(userId) ? await this.store.users.findById(userId) : null;
      if (stranger) await this.audit.recordForUser('action.refused', stranger, { actor, ip, details: { attempted: action.attempted, reason: `not a member of ${organization.slug}` } });
      throw error;
    }
    await this.#requireOwnedHere(actor, organization, user, ip, action);
    return user;
  }

  /** Every member's role and two-factor status, for the compliance report. No secrets. */
  async exportRows(actor: Actor, slug: string): Promise<MemberRow[]> {
    return this.list(actor, slug);
  }

  /**
   * Whom a member who lost both phone and recovery codes can ask to reset their second factor: the
   * owners of their organizations (a few each), or — for someone in none — a site admin.
   */
  async whomToAsk(user: User): Promise<Array<{ readonly organization: string; readonly owners: readonly string[] }>> {
    const memberships = await this.store.memberships.listByUser(user.id);
    const organizations = await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId));
    const owners = (await this.store.memberships.listOwners(organizations.map((organization) => organization.id))).filter((owner) => owner.userId !== user.id);
    // The three longest-standing owners of each organization, named by email in alphabetical order.
    const named = organizations.map((organization) => owners.filter((owner) => owner.organizationId === organization.id).slice(0, 3).map((owner) => owner.userId));
    const emails = new Map((await this.store.users.findByIds([...new Set(named.flat())])).map((owner) => [owner.id, owner.email]));
    return organizations.map((organization, index) => ({
      organization: organization.name,
      owners: named[index]!.flatMap((id) => emails.get(id) ?? []).sort(),
    }));
  }

  // The invited person.

  async received(user: User): Promise<ReceivedInvitation[]> {
    const invitations = await this.store.membershipInvitations.listByUser(user.id);
    const organizations = new Map((await this.store.organizations.findByIds(invitations.map((invitation) => invitation.organizationId))).map((organization) => [organization.id, organization]));
    const inviters = new Map((await this.store.users.findByIds(invitations.flatMap((invitation) => (invitation.invitedBy ? [invitation.invitedBy] : [])))).map((inviter) => [inviter.id, inviter.email]));
    return invitations.flatMap((invitation) => {
      const organization = organizations.get(invitation.organizationId);
      return organization ? [{ invitation, organization, invitedBy: invitation.invitedBy ? inviters.get(invitation.invitedBy) ?? null : null }] : [];
    });
  }

  /** Takes the user's own invitation (never anyone else's, whatever id is sent). */
  async #takeOwnInvitation(user: User, invitationId: string): Promise<MembershipInvitation> {
    const invitation = isRecordId(invitationId) ? await this.store.membershipInvitations.find(invitationId) : null;
    if (!invitation || invitation.userId !== user.id) throw new NotFoundError(INVITATION_NOT_FOUND);
    const taken = await this.store.membershipInvitations.take(invitation.id);
    if (!taken) throw new NotFoundError(INVITATION_NOT_FOUND);
    return taken;
  }

  async accept(user: User, invitationId: string, ip: string | null): Promise<Organization> {
    if (user.managedBy !== null && (await this.store.membershipInvitations.find(invitationId))?.role === 'owner') {
      throw new ConflictError('You sign in with your organization\'s own account, and owners always sign in here with a password. Ask a site admin to let you set one, then accept.');
    }
    const invitation = await this.#takeOwnInvitation(user, invitationId);
    const organization = await this.store.organizations.findById(invitation.organizationId);
    if (!organization) throw new NotFoundError(INVITATION_NOT_FOUND);
    if (!(await this.store.memberships.find(organization.id, user.id))) await this.store.memberships.put(organization.id, user.id, invitation.role);
    await this.audit.record('member.joined', [organization.id], user, { actor: user, ip, details: { role: invitation.role } });
    return organization;
  }

  async decline(user: User, invitationId: string, ip: string | null): Promise<void> {
    const invitation = await this.#takeOwnInvitation(user, invitationId);
    await this.audit.record('member.invitation_declined', [invitation.organizationId], user, { actor: user, ip });
  }
}

/** The lost-device reset itself, once the caller has decided the actor may do it. */
export async function disableTwoFactorOf(secondFactors: SecondFactorService, actor: Actor, user: User, ip: string | null, reason?: string): Promise<User> {
  const why = reason?.trim() ? reason.trim().slice(0, 500) : undefined;
  const disabled = await secondFactors.disable(user, { actor, ip, ...(why ? { reason: why } : {}) });
  if (!disabled) throw new ConflictError(`${user.email} has not set up two-factor authentication.`);
  return user;
}
