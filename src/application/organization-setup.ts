import type { Organization } from '../store/types.js';
import { requireSiteWide, type Actor } from './actor.js';
import type { AddedMember, Members } from './members.js';
import type { Organizations } from './organizations.js';
import { normalizeEmail } from './validation.js';

export interface NewOrganizationInput {
  readonly slug: string;
  readonly name: string;
  /** The first owner: an existing account is invited, a new address gets an account and a link to set its password. */
  readonly ownerEmail?: string;
}

/**
 * A new organization with its first owner, in one step: the site console's **Create organization**,
 * the admin API and `twofold org create --owner`. The owner is added the way owners add members, so
 * an existing account is only invited and joins by accepting (docs/security-model.md).
 */
export class OrganizationSetup {
  constructor(private readonly organizations: Organizations, private readonly members: Members) {}

  async create(actor: Actor, input: NewOrganizationInput, ip: string | null = null): Promise<{ organization: Organization; owner: AddedMember | null }> {
    requireSiteWide(actor, 'Only site admins can create organizations.');
    // Checked first, so that a mistyped address leaves no organization behind.
    const ownerEmail = input.ownerEmail?.trim() ? normalizeEmail(input.ownerEmail, 'ownerEmail') : undefined;
    const organization = await this.organizations.create(actor, input.slug, input.name, ip);
    const owner = ownerEmail === undefined ? null : await this.members.add(actor, organization.slug, { email: ownerEmail, role: 'owner' }, ip);
    return { organization, owner };
  }
}
