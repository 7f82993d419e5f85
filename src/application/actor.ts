import { ForbiddenError } from '../errors.js';
import type { User } from '../store/types.js';

/**
 * Who acts on the application layer: a signed-in user, or the operator at the command line (null),
 * who may do whatever a site admin may — the break-glass when no site admin can sign in.
 */
export type Actor = User | null;

export const OPERATOR: Actor = null;

/** Site admins and the operator act on every organization and account. */
export const actsSiteWide = (actor: Actor): boolean => actor === null || actor.siteAdmin;

/** Refuses anyone who does not act site-wide (docs/security-model.md, "The people"). */
export function requireSiteWide(actor: Actor, message = 'Only site admins can do this.'): void {
  if (!actsSiteWide(actor)) throw new ForbiddenError(message);
}

/** How audit entries and e-mails name who did it. */
export const actorName = (actor: Actor): string => (actor ? `${actor.name} (${actor.email})` : 'The site operator');

/** What an audit entry adds when the operator did it, at the command line. */
export const via = (actor: Actor): { via?: string } => (actor === null ? { via: 'command line' } : {});
