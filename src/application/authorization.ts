import type { Role, User } from '../store/types.js';

/**
 * Who may act on an organization (docs/security-model.md): its owners, and site admins. Everyone else — members,
 * owners of other organizations, anonymous visitors — gets "not found", so guessing an
 * organization's slug or a member's id reveals nothing.
 */
export function canManageOrganization(actor: Pick<User, 'siteAdmin'>, role: Role | null): boolean {
  return actor.siteAdmin || role === 'owner';
}

/** An organization must keep at least one owner: the last one can be neither removed nor demoted. */
export function leavesAnOwner(owners: number, targetIsOwner: boolean, change: 'remove' | 'demote' | 'promote'): boolean {
  if (!targetIsOwner || change === 'promote') return true;
  return owners > 1;
}
