import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import { enforcesTwoFactor } from '../policy/second-factor.js';
import { DuplicateError, type AdoptionSnapshot, type AuditEvent, type Organization, type RolloutSettings, type Store } from '../store/types.js';
import { isActive } from './account-status.js';
import { actorName, actsSiteWide, requireSiteWide, via, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import { canManageOrganization } from './authorization.js';
import type { PasswordLinks } from './password-links.js';
import { isSlug, parsePageNumber, parseRolloutSettings, validateName, validateSlug, type RolloutInput } from './validation.js';

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly total: number;
  readonly page: number;
  readonly pages: number;
}

/** How far an organization's members have come: the figures today, and day by day since enforcement started. */
export interface Adoption {
  /** Whom enforcement covers: every member, or the owners only. */
  readonly covers: 'members' | 'owners';
  readonly total: number;
  readonly enrolled: number;
  /** Of those enrolled, how many have a security key or passkey. */
  readonly withKeys: number;
  readonly enforcementStartedAt: Date | null;
  /** The deadline of those who were members when enforcement started; null without enforcement. */
  readonly deadline: Date | null;
  /** One entry per day with figures, oldest first, today's from the live count. */
  readonly days: readonly Pick<AdoptionSnapshot, 'day' | 'members' | 'enrolled'>[];
}

/** An organization as the site console lists it: its size and how far enforcement has come, at a glance. */
export interface OrganizationOverview {
  readonly organization: Organization;
  readonly members: number;
  readonly owners: number;
  /** Whom enforcement covers (every member, or the owners only), and how many of them have a second factor. */
  readonly adoption: { readonly covers: 'members' | 'owners'; readonly total: number; readonly enrolled: number };
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

const NOT_FOUND = 'There is no such organization, or you are not one of its owners.';
export const AUDIT_PAGE_SIZE = 25;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Organizations and their policy (docs/rules.md, "Organization administration"). Only an
 * organization's owners, site admins and the operator act on one; anyone else gets "not found", so a
 * guessed slug reveals nothing.
 */
export class Organizations {
  constructor(
    private readonly store: Pick<Store, 'organizations' | 'memberships' | 'users' | 'secondFactors' | 'securityKeys' | 'audit' | 'adoption'>,
    private readonly audit: AuditLog,
    private readonly mailer: Mailer,
    private readonly passwordLinks: Pick<PasswordLinks, 'sendInvitation'>,
  ) {}

  async create(actor: Actor, slug: string, name: string, ip: string | null = null): Promise<Organization> {
    requireSiteWide(actor, 'Only site admins can create organizations.');
    const input = { slug: validateSlug(slug), name: validateName(name, 'organization') };
    let organization: Organization;
    try {
      organization = await this.store.organizations.create(input);
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`An organization with the slug "${slug}" already exists.`, 'slug');
      throw error;
    }
    await this.audit.record('organization.created', [organization.id, null], null, { actor, ip, details: { slug: organization.slug, name: organization.name, ...via(actor) } });
    return organization;
  }

  /** Every organization with its members and adoption, for the site console. */
  async overview(actor: Actor): Promise<OrganizationOverview[]> {
    requireSiteWide(actor);
    return Promise.all((await this.store.organizations.list()).map((organization) => this.#overviewOf(organization)));
  }

  /** One organization as the site console lists it. */
  async overviewOne(actor: Actor, slug: string): Promise<OrganizationOverview> {
    requireSiteWide(actor);
    return this.#overviewOf(await this.get(actor, slug));
  }

  async #overviewOf(organization: Organization): Promise<OrganizationOverview> {
    const [all, owners] = await Promise.all([this.store.memberships.countAdoption(organization.id, 'all'), this.store.memberships.countAdoption(organization.id, 'owners')]);
    const covered = organization.applyTo === 'all' ? all : owners;
    return {
      organization,
      members: all.members,
      owners: owners.members,
      adoption: { covers: organization.applyTo === 'owners' ? 'owners' : 'members', total: covered.members, enrolled: covered.enrolled },
    };
  }

  async rename(actor: Actor, slug: string, name: string, ip: string | null = null): Promise<Organization> {
    requireSiteWide(actor, 'Only site admins can rename organizations.');
    const organization = await this.get(actor, slug);
    const renamed = validateName(name, 'organization');
    if (renamed === organization.name) return organization;
    await this.store.organizations.rename(organization.id, renamed);
    await this.audit.record('organization.renamed', [organization.id, null], null, { actor, ip, details: { slug: organization.slug, before: organization.name, name: renamed, ...via(actor) } });
    return { ...organization, name: renamed };
  }

  /**
   * Deletes an organization once its slug is typed again (docs/rules.md, "The site admins'
   * console"). Its members keep their accounts, and its audit log is kept until it ages out. Accounts
   * its identity provider managed would have no way left to sign in: they are handed back to a
   * password here and e-mailed a link to set one.
   */
  async delete(actor: Actor, slug: string, confirmation: string, ip: string | null = null): Promise<{ organization: Organization; members: number; managedAccounts: number }> {
    requireSiteWide(actor, 'Only site admins can delete organizations.');
    const organization = await this.get(actor, slug);
    if (confirmation.trim() !== organization.slug) {
      throw new ValidationError(`To delete ${organization.name}, type its slug, ${organization.slug}, exactly.`, 'confirm');
    }
    const members = (await this.store.memberships.listByOrganization(organization.id)).length;
    const managed = await this.store.users.listManagedBy(organization.id);
    await this.audit.record('organization.deleted', [organization.id, null], null, {
      actor, ip, details: { slug: organization.slug, name: organization.name, members, managedAccounts: managed.length, ...via(actor) },
    });
    await this.store.organizations.delete(organization.id);
    for (const user of managed) {
      await this.audit.recordForUser('account.managed_by_changed', user, { actor, ip, details: { organization: null, because: 'organization deleted' } });
      await this.passwordLinks.sendInvitation(user, null, actorName(actor));
    }
    return { organization, members, managedAccounts: managed.length };
  }

  async manageable(actor: Actor): Promise<Organization[]> {
    if (actsSiteWide(actor)) return this.store.organizations.list();
    const owned = (await this.store.memberships.listByUser(actor!.id)).filter((membership) => membership.role === 'owner');
    return this.store.organizations.findByIds(owned.map((membership) => membership.organizationId));
  }

  /** The organization, if the actor may manage it; "not found" otherwise (also when it does not exist). */
  async get(actor: Actor, slug: string): Promise<Organization> {
    const organization = isSlug(slug) ? await this.store.organizations.findBySlug(slug) : null;
    if (actor === null) {
      if (!organization) throw new NotFoundError(`There is no organization with the slug "${slug}".`);
      return organization;
    }
    if (!organization) throw new NotFoundError(NOT_FOUND);
    const membership = await this.store.memberships.find(organization.id, actor.id);
    if (!canManageOrganization(actor, membership?.role ?? null)) throw new NotFoundError(NOT_FOUND);
    return organization;
  }

  /**
   * Switches Force Two-Factor Authentication. Switching it on e-mails every member it covers who has
   * no second factor yet (all members, or the owners only) when they will be asked for one. The
   * first switch-on is kept as the start of every grace period (docs/rules.md, "Rolling enforcement
   * out"), so switching it off and on again gives nobody more time.
   */
  async setForceTwoFactor(actor: Actor, slug: string, on: boolean, ip: string | null, now = new Date()): Promise<{ organization: Organization; notified: number }> {
    const organization = await this.get(actor, slug);
    if (organization.forceTwoFactor === on) return { organization, notified: 0 };
    await this.store.organizations.setForceTwoFactor(organization.id, on, now);
    await this.audit.record('policy.changed', [organization.id], null, { actor, ip, details: { before: organization.forceTwoFactor, forceTwoFactor: on, ...via(actor) } });
    const updated = (await this.store.organizations.findById(organization.id))!;
    let notified = 0;
    if (on) {
      const memberships = (await this.store.memberships.listByOrganization(organization.id))
        .filter((membership) => enforcesTwoFactor({ ...updated, managesAccount: false, role: membership.role }));
      const enrolled = await this.store.secondFactors.enrolledAmong(memberships.map((membership) => membership.userId));
      const deadline = updated.gracePeriodDays > 0 ? new Date(updated.enforcementStartedAt!.getTime() + updated.gracePeriodDays * DAY_MS) : null;
      const deadlineText = deadline && deadline.getTime() > now.getTime() ? deadline.toISOString().slice(0, 10) : null;
      for (const user of (await this.store.users.findByIds(memberships.map((membership) => membership.userId).filter((id) => !enrolled.has(id)))).filter(isActive)) {
        await this.mailer.send({ to: user.email, message: 'organization-requires-2fa', locals: { organizationName: organization.name, deadline: deadlineText } });
        notified += 1;
      }
    }
    return { organization: updated, notified };
  }

  /**
   * Changes how enforcement is rolled out: the grace period, how long a browser may be remembered,
   * and whom it applies to. Every value is checked before anything is saved, and the audit entry
   * keeps each changed setting's value before and after.
   */
  async setRollout(actor: Actor, slug: string, input: RolloutInput, ip: string | null): Promise<Organization> {
    const organization = await this.get(actor, slug);
    const settings = parseRolloutSettings(input, organization);
    const changes: Record<string, string | number | boolean> = {};
    for (const name of ['gracePeriodDays', 'rememberBrowserDays', 'applyTo', 'requiredFactor', 'confirmSetupByEmail'] as const satisfies readonly (keyof RolloutSettings)[]) {
      if (settings[name] === organization[name]) continue;
      changes[`${name}Before`] = organization[name];
      changes[`${name}After`] = settings[name];
    }
    if (Object.keys(changes).length === 0) return organization;
    const now = new Date();
    await this.store.organizations.setRollout(organization.id, settings, now);
    await this.audit.record('policy.rollout_changed', [organization.id], null, { actor, ip, details: { ...changes, ...via(actor) } });
    return { ...organization, ...settings, keysRequiredSince: organization.keysRequiredSince ?? (settings.requiredFactor === 'security-key' ? now : null) };
  }

  /** Adoption at a glance (docs/rules.md, "Rolling enforcement out"): for the settings and members pages. */
  async adoption(actor: Actor, slug: string, now = new Date()): Promise<Adoption> {
    const organization = await this.get(actor, slug);
    const today = await this.store.memberships.countAdoption(organization.id, organization.applyTo);
    const start = organization.forceTwoFactor ? organization.enforcementStartedAt : null;
    const history = start ? (await this.store.adoption.list(organization.id, dayOf(start))).filter((snapshot) => snapshot.day < dayOf(now)) : [];
    return {
      covers: organization.applyTo === 'owners' ? 'owners' : 'members',
      total: today.members,
      enrolled: today.enrolled,
      withKeys: (await this.store.securityKeys.countAmong(await this.#covered(organization))).size,
      enforcementStartedAt: start,
      deadline: start ? new Date(start.getTime() + organization.gracePeriodDays * DAY_MS) : null,
      days: start ? [...history.map(({ day, members, enrolled }) => ({ day, members, enrolled })), { day: dayOf(now), ...today }] : [],
    };
  }

  /**
   * Records today's adoption figures of every enforcing organization, one snapshot per organization
   * and day (the worker loop runs it; several processes only rewrite the same day's figures).
   */
  async recordAdoption(now = new Date()): Promise<number> {
    const enforcing = (await this.store.organizations.list()).filter((organization) => organization.forceTwoFactor);
    for (const organization of enforcing) {
      await this.store.adoption.record({ organizationId: organization.id, day: dayOf(now), ...(await this.store.memberships.countAdoption(organization.id, organization.applyTo)) });
    }
    return enforcing.length;
  }

  /** The ids of the members enforcement covers: all, or the owners only. */
  async #covered(organization: Organization): Promise<string[]> {
    return (await this.store.memberships.listByOrganization(organization.id))
      .filter((membership) => organization.applyTo === 'all' || membership.role === 'owner')
      .map((membership) => membership.userId);
  }

  async auditLog(actor: Actor, slug: string, page: unknown): Promise<AuditPage & { organization: Organization }> {
    const organization = await this.get(actor, slug);
    return { organization, ...(await this.#auditPage(organization.id, page)) };
  }

  /** Site-wide events, and events about people in no organization. */
  async siteAuditLog(actor: Actor, page: unknown): Promise<AuditPage> {
    requireSiteWide(actor);
    return this.#auditPage(null, page);
  }

  async #auditPage(organizationId: string | null, page: unknown): Promise<AuditPage> {
    const current = parsePageNumber(page);
    const { events, total } = await this.store.audit.list(organizationId, { limit: AUDIT_PAGE_SIZE, offset: (current - 1) * AUDIT_PAGE_SIZE });
    return { events, total, page: current, pages: Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE)) };
  }
}
