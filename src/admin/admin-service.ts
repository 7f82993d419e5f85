import crypto from 'node:crypto';
import type { TwoFactorMode } from '../../config/index.js';
import type { AuditLog } from '../audit/audit-log.js';
import { setSiteTwoFactorMode } from '../directory/site-settings.js';
import { isRecordId, isSlug, normalizeEmail, parsePageNumber, validateName } from '../directory/validation.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { isFederated, type FederationService } from '../federation/federation-service.js';
import type { Mailer } from '../mail/mailer.js';
import type { SecondFactorService } from '../mfa/second-factor-service.js';
import type { AuditEvent, Membership, MembershipInvitation, Organization, Role, Store, User } from '../store/types.js';
import { canManageOrganization, leavesAnOwner } from './authorization.js';

export interface MemberRow {
  readonly user: User;
  readonly role: Role;
  readonly enrolled: boolean;
  readonly recoveryCodesRemaining: number;
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

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
}

/** What adding a member by email did. */
export type AddedMember =
  /** An existing account was invited; it joins when its owner accepts. */
  | { readonly user: User; readonly outcome: 'invited' }
  /** A new account was made and e-mailed a link to set its password. */
  | { readonly user: User; readonly outcome: 'created' }
  /** A new account was made for the organization's identity provider (an address in its domains). */
  | { readonly user: User; readonly outcome: 'created-managed' };

const NOT_FOUND = 'There is no such organization, or you are not one of its owners.';
const MEMBER_NOT_FOUND = 'That person is not a member of this organization.';
const INVITATION_NOT_FOUND = 'There is no such invitation any more. It may have expired, or been withdrawn.';
const PASSWORD_INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MEMBERSHIP_INVITATION_TTL_MS = 14 * 24 * 60 * 60 * 1000;
export const AUDIT_PAGE_SIZE = 25;

export const invitationTokenHash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/**
 * What organization owners and site admins can do (docs/security-model.md), HTTP-free: the admin
 * pages, the admin JSON API and the command line call it, so every door applies the same
 * authorization, and every action is audited. An organization is a trust boundary: an owner acts
 * only on accounts that accepted to be in it, and weakens the sign-in only of accounts that belong
 * to it alone.
 */
export class AdminService {
  constructor(
    private readonly store: Store,
    private readonly secondFactors: SecondFactorService,
    private readonly federation: FederationService,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly issuer: string,
  ) {}

  async manageableOrganizations(actor: User): Promise<Organization[]> {
    if (actor.siteAdmin) return this.store.organizations.list();
    const owned = (await this.store.memberships.listByUser(actor.id)).filter((membership) => membership.role === 'owner');
    return this.store.organizations.findByIds(owned.map((membership) => membership.organizationId));
  }

  /** The organization, if the actor may manage it; "not found" otherwise (also when it does not exist). */
  async organization(actor: User, slug: string): Promise<Organization> {
    const organization = isSlug(slug) ? await this.store.organizations.findBySlug(slug) : null;
    if (!organization) throw new NotFoundError(NOT_FOUND);
    const membership = await this.store.memberships.find(organization.id, actor.id);
    if (!canManageOrganization(actor, membership?.role ?? null)) throw new NotFoundError(NOT_FOUND);
    return organization;
  }

  async members(actor: User, slug: string, filter: { withoutTwoFactor?: boolean } = {}): Promise<MemberRow[]> {
    const organization = await this.organization(actor, slug);
    const memberships = await this.store.memberships.listByOrganization(organization.id);
    const roles = new Map(memberships.map((membership) => [membership.userId, membership.role]));
    const users = await this.store.users.findByIds(memberships.map((membership) => membership.userId));
    const rows = await Promise.all(users.map(async (user) => {
      const secondFactor = await this.store.secondFactors.find(user.id);
      return { user, role: roles.get(user.id)!, enrolled: secondFactor !== null, recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor) };
    }));
    return filter.withoutTwoFactor ? rows.filter((row) => !row.enrolled) : rows;
  }

  /** Invitations the organization is waiting on: the address and role only. */
  async pendingInvitations(actor: User, slug: string): Promise<PendingInvitationRow[]> {
    const organization = await this.organization(actor, slug);
    const invitations = await this.store.membershipInvitations.listByOrganization(organization.id);
    const emails = new Map((await this.store.users.findByIds(invitations.map((invitation) => invitation.userId))).map((user) => [user.id, user.email]));
    return invitations.flatMap((invitation) => (emails.has(invitation.userId) ? [{ invitation, email: emails.get(invitation.userId)! }] : []));
  }

  async setForceTwoFactor(actor: User, slug: string, on: boolean, ip: string): Promise<{ organization: Organization; notified: number }> {
    const organization = await this.organization(actor, slug);
    if (organization.forceTwoFactor === on) return { organization, notified: 0 };
    await this.store.organizations.setForceTwoFactor(organization.id, on);
    await this.audit.record('policy.changed', [organization.id], null, { actor, ip, details: { forceTwoFactor: on } });
    let notified = 0;
    if (on) {
      for (const row of await this.members(actor, slug, { withoutTwoFactor: true })) {
        this.mailer.send({ to: row.user.email, message: 'organization-requires-2fa', locals: { organizationName: organization.name } });
        notified += 1;
      }
    }
    return { organization: { ...organization, forceTwoFactor: on }, notified };
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

  async member(actor: User, slug: string, userId: string): Promise<{ organization: Organization; row: MemberDetail }> {
    const organization = await this.organization(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    const secondFactor = await this.store.secondFactors.find(user.id);
    return {
      organization,
      row: {
        user,
        role: membership.role,
        enrolled: secondFactor !== null,
        recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor),
        ownedHere: await this.#ownedHere(organization, user),
      },
    };
  }

  async #owners(organization: Organization): Promise<number> {
    return (await this.store.memberships.listByOrganization(organization.id)).filter((membership) => membership.role === 'owner').length;
  }

  /**
   * Adds a member by email. Someone who already has an account is invited and joins only by accepting,
   * signed in as themselves: an owner never pulls an account into their organization. A new address
   * gets a new account — managed by the organization's identity provider when a site admin assigned
   * its domain to the organization, otherwise with an e-mailed link to set a password.
   */
  async addMember(actor: User, slug: string, input: { email: string; role: Role; name?: string }, ip: string): Promise<AddedMember> {
    const organization = await this.organization(actor, slug);
    const email = normalizeEmail(input.email);
    const existing = await this.store.users.findByEmail(email);
    if (existing) {
      if (await this.store.memberships.find(organization.id, existing.id)) throw new ConflictError(`${email} is already a member of ${organization.name}.`);
      await this.store.membershipInvitations.put({
        organizationId: organization.id,
        userId: existing.id,
        role: input.role,
        invitedBy: actor.id,
        expiresAt: new Date(Date.now() + MEMBERSHIP_INVITATION_TTL_MS),
      });
      await this.audit.record('member.invited', [organization.id], existing, { actor, ip, details: { role: input.role, account: 'existing' } });
      this.mailer.send({
        to: email,
        message: 'membership-invitation',
        locals: { organizationName: organization.name, invitedBy: actor.email, role: input.role, link: `${this.issuer}/account/invitations` },
      });
      return { user: existing, outcome: 'invited' };
    }

    const name = input.name ? validateName(input.name, 'member') : email.split('@')[0]!;
    const managed = isFederated(organization) && organization.federation.domains.includes(email.split('@')[1]!);
    const user = await this.store.users.create({ email, name, passwordHash: null, siteAdmin: false, managedBy: managed ? organization.id : null });
    await this.store.memberships.put(organization.id, user.id, input.role);
    if (managed) {
      this.mailer.send({ to: email, message: 'account-managed-elsewhere', locals: { organizationName: organization.name, invitedBy: actor.email } });
    } else {
      await this.#sendPasswordInvitation(user, organization.name, actor.email);
    }
    await this.audit.record('member.invited', [organization.id], user, { actor, ip, details: { role: input.role, account: managed ? 'new, managed by the identity provider' : 'new' } });
    return { user, outcome: managed ? 'created-managed' : 'created' };
  }

  async #sendPasswordInvitation(user: User, organizationName: string | null, invitedBy: string): Promise<void> {
    const token = crypto.randomBytes(32).toString('base64url');
    await this.store.invitations.create(invitationTokenHash(token), user.id, new Date(Date.now() + PASSWORD_INVITATION_TTL_MS));
    this.mailer.send({ to: user.email, message: 'invitation', locals: { organizationName, link: `${this.issuer}/invitation/${token}`, invitedBy } });
  }

  async withdrawInvitation(actor: User, slug: string, invitationId: string, ip: string): Promise<void> {
    const organization = await this.organization(actor, slug);
    const invitation = isRecordId(invitationId) ? await this.store.membershipInvitations.find(invitationId) : null;
    if (!invitation || invitation.organizationId !== organization.id) throw new NotFoundError(INVITATION_NOT_FOUND);
    const taken = await this.store.membershipInvitations.take(invitation.id);
    if (!taken) throw new NotFoundError(INVITATION_NOT_FOUND);
    const user = await this.store.users.findById(taken.userId);
    await this.audit.record('member.invitation_withdrawn', [organization.id], user, { actor, ip });
  }

  async removeMember(actor: User, slug: string, userId: string, ip: string): Promise<User> {
    const organization = await this.organization(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    if (!leavesAnOwner(await this.#owners(organization), membership.role === 'owner', 'remove')) {
      throw new ConflictError(`${user.email} is the last owner of ${organization.name}. Make someone else an owner first.`);
    }
    await this.store.memberships.remove(organization.id, user.id);
    await this.audit.record('member.removed', [organization.id], user, { actor, ip });
    return user;
  }

  async setRole(actor: User, slug: string, userId: string, role: Role, ip: string): Promise<User> {
    const organization = await this.organization(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    if (membership.role === role) return user;
    if (!leavesAnOwner(await this.#owners(organization), membership.role === 'owner', role === 'owner' ? 'promote' : 'demote')) {
      throw new ConflictError(`${user.email} is the last owner of ${organization.name}. Make someone else an owner first.`);
    }
    await this.store.memberships.put(organization.id, user.id, role);
    await this.audit.record('member.role_changed', [organization.id], user, { actor, ip, details: { from: membership.role, to: role } });
    return user;
  }

  /**
   * Seed 003's lost device: delete the member's secret and codes, end their sessions, e-mail them. An
   * owner may do it only for an account that belongs to their organization alone; anyone else's — a
   * member of another organization too, a site admin — needs a site admin, and the attempt is recorded.
   */
  async disableMemberTwoFactor(actor: User, slug: string, userId: string, ip: string, reason?: string): Promise<User> {
    const organization = await this.organization(actor, slug);
    const { user } = await this.#member(organization, userId);
    if (!actor.siteAdmin && !(await this.#ownedHere(organization, user))) {
      await this.audit.record('action.refused', [organization.id], user, { actor, ip, details: { attempted: 'two_factor.reset', reason: user.siteAdmin ? 'site admin' : 'also in another organization' } });
      throw new ForbiddenError(user.siteAdmin
        ? `${user.email} is a site admin; only another site admin can disable their two-factor authentication.`
        : `${user.email} also belongs to another organization, so only a site admin can disable their two-factor authentication. Ask a site admin of this site.`);
    }
    return this.#disable(actor, user, ip, reason);
  }

  async #disable(actor: User, user: User, ip: string, reason?: string): Promise<User> {
    const why = reason?.trim() ? reason.trim().slice(0, 500) : undefined;
    const disabled = await this.secondFactors.disable(user, { actor, actorName: `${actor.name} (${actor.email})`, ip, ...(why ? { reason: why } : {}) });
    if (!disabled) throw new ConflictError(`${user.email} has not set up two-factor authentication.`);
    return user;
  }

  async auditLog(actor: User, slug: string, page: unknown): Promise<AuditPage & { organization: Organization }> {
    const organization = await this.organization(actor, slug);
    return { organization, ...(await this.#auditPage(organization.id, page)) };
  }

  async #auditPage(organizationId: string | null, page: unknown): Promise<AuditPage> {
    const current = parsePageNumber(page);
    const { events, total } = await this.store.audit.list(organizationId, { limit: AUDIT_PAGE_SIZE, offset: (current - 1) * AUDIT_PAGE_SIZE });
    return { events, total, page: current, pages: Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE)) };
  }

  // The invited person.

  async receivedInvitations(user: User): Promise<ReceivedInvitation[]> {
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

  async acceptInvitation(user: User, invitationId: string, ip: string): Promise<Organization> {
    const invitation = await this.#takeOwnInvitation(user, invitationId);
    const organization = await this.store.organizations.findById(invitation.organizationId);
    if (!organization) throw new NotFoundError(INVITATION_NOT_FOUND);
    if (!(await this.store.memberships.find(organization.id, user.id))) await this.store.memberships.put(organization.id, user.id, invitation.role);
    await this.audit.record('member.joined', [organization.id], user, { actor: user, ip, details: { role: invitation.role } });
    return organization;
  }

  async declineInvitation(user: User, invitationId: string, ip: string): Promise<void> {
    const invitation = await this.#takeOwnInvitation(user, invitationId);
    await this.audit.record('member.invitation_declined', [invitation.organizationId], user, { actor: user, ip });
  }

  // Site admins (and the operator, as actor null, where the command line offers the same).

  #requireSiteAdmin(actor: User | null): void {
    if (actor !== null && !actor.siteAdmin) throw new ForbiddenError('Only site admins can do this.');
  }

  async setSiteMode(actor: User, mode: TwoFactorMode, ip: string): Promise<void> {
    this.#requireSiteAdmin(actor);
    await setSiteTwoFactorMode(this.store.settings, mode);
    await this.audit.record('site.two_factor_mode_changed', [null], null, { actor, ip, details: { mode } });
  }

  async findUsers(actor: User, text: string): Promise<User[]> {
    this.#requireSiteAdmin(actor);
    if (text.trim().length === 0) return [];
    return this.store.users.search(text, 50);
  }

  async user(actor: User | null, userId: string): Promise<MemberRow & { organizations: Organization[]; managedBy: Organization | null }> {
    this.#requireSiteAdmin(actor);
    const user = isRecordId(userId) ? await this.store.users.findById(userId) : null;
    if (!user) throw new NotFoundError('There is no such user.');
    const secondFactor = await this.store.secondFactors.find(user.id);
    const memberships = await this.store.memberships.listByUser(user.id);
    const organizations = await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId));
    return {
      user,
      role: 'member',
      enrolled: secondFactor !== null,
      recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor),
      organizations,
      managedBy: organizations.find((organization) => organization.id === user.managedBy) ?? null,
    };
  }

  async disableUserTwoFactor(actor: User, userId: string, ip: string, reason?: string): Promise<User> {
    const { user } = await this.user(actor, userId);
    return this.#disable(actor, user, ip, reason);
  }

  /** Hands a member's account to their organization's identity provider (docs/security-model.md, "Managed accounts"). */
  async handAccountTo(actor: User, userId: string, slug: string, ip: string): Promise<User> {
    const { user, organizations } = await this.user(actor, userId);
    const organization = organizations.find((candidate) => candidate.slug === slug);
    if (!organization) throw new ValidationError(`${user.email} is not a member of that organization.`, 'organization');
    await this.federation.setManagedBy(actor, user, organization, ip);
    return user;
  }

  /** Takes an account back from an identity provider: it signs in here again, after setting a password from the e-mailed link. */
  async returnAccountToPassword(actor: User | null, userId: string, ip: string | null): Promise<User> {
    const { user } = await this.user(actor, userId);
    if (user.managedBy === null) throw new ConflictError(`${user.email} already signs in with a password here.`);
    await this.federation.setManagedBy(actor, user, null, ip);
    await this.#sendPasswordInvitation(user, null, actor?.email ?? 'The site operator');
    return user;
  }

  async siteAuditLog(actor: User, page: unknown): Promise<AuditPage> {
    this.#requireSiteAdmin(actor);
    return this.#auditPage(null, page);
  }
}

export function parseRole(raw: unknown): Role {
  if (raw === 'owner' || raw === 'member') return raw;
  throw new ValidationError('The role must be owner or member.', 'role');
}
