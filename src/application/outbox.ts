import { ForbiddenError, NotFoundError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { OutboxEntry, Store } from '../store/types.js';
import { actsSiteWide, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';

/** How many failed messages the site settings list. */
const LISTED = 50;

/**
 * E-mails the mail server did not take for 24 hours: listed for site admins (recipient, subject,
 * when, why — never a body, which can carry a sign-in link), who may send one again.
 */
export class MailOutbox {
  constructor(private readonly store: Pick<Store, 'outbox' | 'users'>, private readonly mailer: Mailer, private readonly audit: AuditLog) {}

  async failed(actor: Actor): Promise<OutboxEntry[]> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can do this.');
    return this.store.outbox.listFailed(LISTED);
  }

  /** Sends a failed message again, with another 24 hours of retries. */
  async retry(actor: Actor, id: string, ip: string | null): Promise<OutboxEntry> {
    if (!actsSiteWide(actor)) throw new ForbiddenError('Only site admins can do this.');
    const entry = await this.mailer.retry(id);
    if (!entry) throw new NotFoundError('That e-mail is no longer waiting to be retried: it may have been retried already.');
    const recipient = await this.store.users.findByEmail(entry.to);
    await this.audit.record('email.retried', [null], recipient, { actor, ip, details: { to: entry.to, subject: entry.subject } });
    return entry;
  }
}
