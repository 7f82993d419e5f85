import type { AuditAction, NewAuditEvent, Store, User } from '../store/types.js';

/** Who did it, as the log keeps it: a user, or the operator at the command line (null). */
type LoggedActor = Pick<User, 'id' | 'email'> | null;

export interface AuditContext {
  readonly actor: LoggedActor;
  readonly ip?: string | null;
  readonly details?: NewAuditEvent['details'];
}

/**
 * Writes security events to the audit log of each organization they concern. An event about a user
 * goes to every organization the user belongs to (each one's owners see it); one about a user in no
 * organization, or about the whole site, is kept under no organization, for site admins.
 */
export class AuditLog {
  constructor(private readonly store: Pick<Store, 'audit' | 'memberships'>) {}

  async record(action: AuditAction, organizationIds: readonly (string | null)[], target: Pick<User, 'id' | 'email'> | null, context: AuditContext): Promise<void> {
    const ids = organizationIds.length > 0 ? organizationIds : [null];
    await this.store.audit.append(ids.map((organizationId) => ({
      organizationId,
      action,
      actorId: context.actor?.id ?? null,
      actorEmail: context.actor?.email ?? null,
      targetId: target?.id ?? null,
      targetEmail: target?.email ?? null,
      ip: context.ip ?? null,
      details: context.details ?? {},
    })));
  }

  async recordForUser(action: AuditAction, target: Pick<User, 'id' | 'email'>, context: AuditContext): Promise<void> {
    const memberships = await this.store.memberships.listByUser(target.id);
    await this.record(action, memberships.map((membership) => membership.organizationId), target, context);
  }
}
