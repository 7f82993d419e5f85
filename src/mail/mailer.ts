import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Config } from '../../config/index.js';
import { renderHtml } from '../http/views.js';
import type { Logger } from '../log.js';
import { MESSAGES, type MessageName } from './messages.js';

export interface Mail {
  readonly to: string;
  readonly message: MessageName;
  readonly locals?: Record<string, unknown>;
}

const RETRY_DELAYS_MS = [2_000, 10_000, 60_000];

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
 * Sends Twofold's e-mails through nodemailer: SMTP when SMTP_URL is set, otherwise into
 * DATA_DIR/outbox as .eml files the operator can read. Sending never blocks or fails the action that
 * caused it: a message is queued, retried with back-off when the server is down, and each failure is
 * logged (recipient and subject only).
 */
export class Mailer {
  readonly #transport: Transporter;
  readonly #outboxDir: string | undefined;
  readonly #pending = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(private readonly config: Config, private readonly log: Logger, private readonly retryDelaysMs = RETRY_DELAYS_MS) {
    if (config.mail.smtpUrl) {
      this.#transport = nodemailer.createTransport(config.mail.smtpUrl);
    } else {
      this.#outboxDir = config.mail.outboxDir;
      this.#transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    }
  }

  /** Queues the message and returns at once. */
  send(mail: Mail): void {
    const locals = { siteName: this.config.siteName, accountUrl: `${this.config.issuer}/account`, email: mail.to, ...mail.locals };
    const html = renderHtml(`mail/${mail.message}`, locals);
    const envelope = { from: this.config.mail.from, to: mail.to, subject: MESSAGES[mail.message].subject, html, text: htmlToText(html) };
    this.#attempt(envelope, 0);
  }

  #attempt(envelope: SendMailOptions, attempt: number): void {
    const delivery = this.#deliver(envelope).then(
      () => this.log.info('e-mail sent', { to: envelope.to, subject: envelope.subject }),
      (error: Error) => {
        const delay = this.retryDelaysMs[attempt];
        if (delay === undefined || this.#closed) {
          this.log.error('e-mail could not be sent; giving up', { to: envelope.to, subject: envelope.subject, error: error.message });
          return;
        }
        this.log.warn('e-mail could not be sent; will retry', { to: envelope.to, subject: envelope.subject, inMs: delay, error: error.message });
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#attempt(envelope, attempt + 1);
        }, delay);
        this.#timers.add(timer);
      },
    );
    this.#pending.add(delivery);
    void delivery.finally(() => this.#pending.delete(delivery));
  }

  async #deliver(envelope: SendMailOptions): Promise<void> {
    const info = await this.#transport.sendMail(envelope);
    if (this.#outboxDir) {
      await fs.promises.mkdir(this.#outboxDir, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(info.messageId).replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}.eml`;
      await fs.promises.writeFile(path.join(this.#outboxDir, name), info.message as Buffer, { mode: 0o600 });
    }
  }

  /** Waits for the messages being delivered right now (not for scheduled retries). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await this.idle();
    this.#transport.close();
  }
}
