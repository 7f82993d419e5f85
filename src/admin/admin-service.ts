import crypto from 'node:crypto';
import type { TwoFactorMode } from '../../config/index.js';
import type { AuditLog } from '../audit/audit-log.js';
import { setSiteTwoFactorMode } from '../directory/site-settings.js';
import { isRecordId, isSlug, normalizeEmail, validateName } from '../directory/validation.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { SecondFactorService } from '../mfa/second-factor-service.js';
import type { AuditEvent, Membership, Organization, Role, Store, User } from '../store/types.js';
import { canManageOrganization, leavesAnOwner } from './authorization.js';

export interface MemberRow {
  readonly user: User;
  readonly role: Role;
  readonly enrolled: boolean;
  readonly recoveryCodesRemaining: number;
}

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
}

const NOT_FOUND = 'There is no such organization, or you are not one of its owners.';
const MEMBER_NOT_FOUND = 'That person is not a member of this organization.';
const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const AUDIT_PAGE_SIZE = 25;

export const invitationTokenHash = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/**
 * What organization owners and site admins can do (SPEC 1.6), HTTP-free: the admin pages and the
 * admin JSON API both call it, so both apply the same authorization to every action, and every action
 * is audited.
 */
export class AdminService {
  constructor(
    private readonly store: Store,
    private readonly secondFactors: SecondFactorService,
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

  async member(actor: User, slug: string, userId: string): Promise<{ organization: Organization; row: MemberRow }> {
    const organization = await this.organization(actor, slug);
    const { user, membership } = await this.#member(organization, userId);
    const secondFactor = await this.store.secondFactors.find(user.id);
    return { organization, row: { user, role: membership.role, enrolled: secondFactor !== null, recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor) } };
  }

  async #owners(organization: Organization): Promise<number> {
    return (await this.store.memberships.listByOrganization(organization.id)).filter((membership) => membership.role === 'owner').length;
  }

  /**
   * Adds a member by email: an existing user joins at once; a new one is created without a password
   * and e-mailed an invitation to set one.
   */
  async addMember(actor: User, slug: string, input: { email: string; role: Role; name?: string }, ip: string): Promise<{ user: User; invited: boolean }> {
    const organization = await this.organization(actor, slug);
    const email = normalizeEmail(input.email);
    let user = await this.store.users.findByEmail(email);
    let invited = false;
    if (user && (await this.store.memberships.find(organization.id, user.id))) throw new ConflictError(`${email} is already a member of ${organization.name}.`);
    if (!user) {
      user = await this.store.users.create({ email, name: input.name ? validateName(input.name, 'member') : email.split('@')[0]!, passwordHash: null, siteAdmin: false });
      const token = crypto.randomBytes(32).toString('base64url');
      await this.store.invitations.create(invitationTokenHash(token), user.id, new Date(Date.now() + INVITATION_TTL_MS));
      this.mailer.send({ to: email, message: 'invitation', locals: { organizationName: organization.name, link: `${this.issuer}/invitation/${token}`, invitedBy: actor.email } });
      invited = true;
    }
    await this.store.memberships.put(organization.id, user.id, input.role);
    await this.audit.record(invited ? 'member.invited' : 'member.added', [organization.id], user, { actor, ip, details: { role: input.role } });
    return { user, invited };
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

  /** Seed 003's lost device: delete the member's secret and codes, end their sessions, e-mail them. */
  async disableMemberTwoFactor(actor: User, slug: string, userId: string, ip: string, reason?: string): Promise<User> {
    const organization = await this.organization(actor, slug);
    const { user } = await this.#member(organization, userId);
    // An owner must not be able to weaken the sign-in of someone who administers the whole site.
    if (user.siteAdmin && !actor.siteAdmin) throw new ForbiddenError(`${user.email} is a site admin; only another site admin can disable their two-factor authentication.`);
    return this.#disable(actor, user, ip, reason);
  }

  async #disable(actor: User, user: User, ip: string, reason?: string): Promise<User> {
    const why = reason?.trim() ? reason.trim().slice(0, 500) : undefined;
    const disabled = await this.secondFactors.disable(user, { actor, actorName: `${actor.name} (${actor.email})`, ip, ...(why ? { reason: why } : {}) });
    if (!disabled) throw new ConflictError(`${user.email} has not set up two-factor authentication.`);
    return user;
  }

  async auditLog(actor: User, slug: string, page: number): Promise<AuditPage & { organization: Organization }> {
    const organization = await this.organization(actor, slug);
    return { organization, ...(await this.#auditPage(organization.id, page)) };
  }

  async #auditPage(organizationId: string | null, page: number): Promise<AuditPage> {
    const current = Number.isInteger(page) && page > 0 ? page : 1;
    const { events, total } = await this.store.audit.list(organizationId, { limit: AUDIT_PAGE_SIZE, offset: (current - 1) * AUDIT_PAGE_SIZE });
    return { events, total, page: current, pages: Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE)) };
  }

  // Site admins only.

  #requireSiteAdmin(actor: User): void {
    if (!actor.siteAdmin) throw new ForbiddenError('Only site admins can do this.');
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

  async user(actor: User, userId: string): Promise<MemberRow & { organizations: Organization[] }> {
    this.#requireSiteAdmin(actor);
    const user = isRecordId(userId) ? await this.store.users.findById(userId) : null;
    if (!user) throw new NotFoundError('There is no such user.');
    const secondFactor = await this.store.secondFactors.find(user.id);
    const memberships = await this.store.memberships.listByUser(user.id);
    return {
      user,
      role: 'member',
      enrolled: secondFactor !== null,
      recoveryCodesRemaining: this.secondFactors.remainingRecoveryCodes(secondFactor),
      organizations: await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId)),
    };
  }

  async disableUserTwoFactor(actor: User, userId: string, ip: string, reason?: string): Promise<User> {
    const { user } = await this.user(actor, userId);
    return this.#disable(actor, user, ip, reason);
  }

  async siteAuditLog(actor: User, page: number): Promise<AuditPage> {
    this.#requireSiteAdmin(actor);
    return this.#auditPage(null, page);
  }
}

export function parseRole(raw: unknown): Role {
  if (raw === 'owner' || raw === 'member') return raw;
  throw new ValidationError('The role must be owner or member.', 'role');
}
