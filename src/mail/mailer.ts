import crypto from 'node:crypto';
import type { Config } from '../../config/index.js';
import { renderHtml } from '../http/views.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../security/secret-box.js';
import type { OutboxEntry, OutboxRepository } from '../store/types.js';
import { MESSAGES, type MessageName } from './messages.js';
import { GIVE_UP_AFTER_MS } from './retry-policy.js';

export interface Mail {
  readonly to: string;
  readonly message: MessageName;
  readonly locals?: Record<string, unknown>;
}

/** What the outbox counts, by message name (never by recipient). */
export interface MailMetrics {
  queued(message: string): void;
  sent(message: string): void;
  /** One attempt the mail server did not take; the message is retried. */
  deliveryError(message: string): void;
  /** Given up on after 24 hours of retries. */
  failed(message: string): void;
}

/** The rendered message as the outbox keeps it, sealed. */
export interface MailBody {
  readonly from: string;
  readonly html: string;
  readonly text: string;
}

/** Bound to the row, so that a body copied into another message's row does not open there. */
export const bodyContext = (id: string) => `outbox:${id}`;

function htmlToText(html: string): string {
  return html
    .replace(/<(br|\/p|\/h1|\/h2|\/li)>/gi, '\n')
    .replace(/<a [^>]*href="([^"]+)"[^>]*>([^<]*)<\/a>/gi, '$2 ($1)')
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Twofold's e-mails, as the use cases send them: `send` renders the named message and records it in
 * the durable outbox of the store; the outbox worker (delivery.ts) hands it to the mail server and
 * retries. So a mail server that is down never fails or delays the action, and a restart loses nothing.
 *
 * A message is recorded right after the change that causes it, in the same request, before the
 * response — not in one transaction with it: MongoDB without a replica set has no multi-document
 * transactions, and a better-sqlite3 transaction cannot stay open across the awaits of a use case
 * while other requests share the connection. A graceful stop lets every request in flight finish,
 * so a restart cannot fall between the two writes; only a crash of the process itself (power, kill
 * -9) in the instant between them could lose a message, as it could the audit entry written beside
 * it. Recording first and changing after would be worse: a crash in between would send a security
 * notice ("two-factor authentication was turned off") about something that never happened.
 *
 * The body is sealed (AES-256-GCM, bound to the message's id), because e-mails can carry links that
 * sign someone in, and it is deleted once the message is sent.
 */
export class Mailer {
  readonly #listeners = new Set<(id: string) => void>();

  constructor(
    private readonly config: Config,
    private readonly outbox: OutboxRepository,
    private readonly box: SecretBox,
    private readonly log: Logger,
    private readonly metrics: MailMetrics,
  ) {}

  /**
   * Records the message in the outbox and returns; the worker sends it. A failure to record it (the
   * store is gone) is logged for the operator rather than thrown: the change it reports is made.
   */
  async send(mail: Mail): Promise<void> {
    const id = crypto.randomUUID();
    const subject = MESSAGES[mail.message].subject;
    try {
      const locals = { siteName: this.config.siteName, accountUrl: `${this.config.issuer}/account`, email: mail.to, ...mail.locals };
      const html = renderHtml(`mail/${mail.message}`, locals);
      const body: MailBody = { from: this.config.mail.from, html, text: htmlToText(html) };
      const queuedAt = new Date();
      await this.outbox.enqueue({
        id,
        message: mail.message,
        to: mail.to,
        subject,
        sealedBody: this.box.seal(JSON.stringify(body), bodyContext(id)),
        queuedAt,
        giveUpAt: new Date(queuedAt.getTime() + GIVE_UP_AFTER_MS),
      });
    } catch (error) {
      this.log.error('e-mail could not be queued', { to: mail.to, subject, error: (error as Error).message });
      return;
    }
    this.metrics.queued(mail.message);
    this.log.info('e-mail queued', { outboxId: id, to: mail.to, subject });
    this.#notify(id);
  }

  /** Makes a failed message pending again, with another 24 hours of retries; null when it is not failed. */
  async retry(id: string): Promise<OutboxEntry | null> {
    const now = new Date();
    const entry = await this.outbox.retry(id, now, new Date(now.getTime() + GIVE_UP_AFTER_MS));
    if (entry) this.#notify(id);
    return entry;
  }

  /**
   * Calls `listener` with the id of each message recorded (or retried): the worker of this process
   * sends it without waiting for its next round, and the command line sends what it queued before it exits.
   */
  onQueued(listener: (id: string) => void): void {
    this.#listeners.add(listener);
  }

  #notify(id: string): void {
    for (const listener of this.#listeners) listener(id);
  }
}
