import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config/index.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../security/secret-box.js';
import type { OutboxMessage, OutboxRepository } from '../store/types.js';
import { bodyContext, type MailBody, type MailMetrics } from './mailer.js';
import { afterFailedAttempt } from './retry-policy.js';

/** Messages claimed and sent at once by one round. */
const BATCH = 4;
/**
 * How long a send may take before it counts as failed. Nodemailer's own timeouts (connection,
 * greeting, inactivity) end most attempts well before; this bounds the rest.
 */
const SEND_TIMEOUT_MS = 90_000;
/**
 * A claim outlives the longest send by far: while it holds, no other worker takes the message, so
 * only a worker that stopped mid-send (crashed, frozen) lets another send it again.
 */
export const LEASE_MS = 5 * 60_000;
/** What is kept of the mail server's answer: enough to tell a site admin why. */
const ERROR_LENGTH = 300;

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim().slice(0, ERROR_LENGTH) || 'unknown error';
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the mail server within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface DeliveryOptions {
  /** Names this worker in the claims it takes; unique per process. */
  readonly worker?: string;
  /** The clock, for tests that need a day to pass. */
  readonly now?: () => Date;
}

/**
 * The outbox worker's sending side: claims due messages with a lease, hands each to nodemailer — SMTP
 * when SMTP_URL is set, otherwise a .eml file in DATA_DIR/outbox named after the message, so that
 * writing it twice leaves one file — and records the outcome: sent, retried with backoff, or after
 * 24 hours failed and listed for site admins. Every message keeps its outbox id as its Message-ID,
 * so a receiving server can tell a resend (after a worker died mid-send) from a new message.
 */
export class MailDelivery {
  readonly #transport: Transporter;
  readonly #outboxDir: string | undefined;
  readonly #worker: string;
  readonly #now: () => Date;
  readonly #domain: string;
  #stopping = false;

  constructor(
    private readonly config: Config,
    private readonly outbox: OutboxRepository,
    private readonly box: SecretBox,
    private readonly log: Logger,
    private readonly metrics: MailMetrics,
    { worker = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`, now = () => new Date() }: DeliveryOptions = {},
  ) {
    this.#worker = worker;
    this.#now = now;
    this.#domain = new URL(config.issuer).hostname;
    if (config.mail.smtpUrl) {
      this.#transport = nodemailer.createTransport({ url: config.mail.smtpUrl, connectionTimeout: 20_000, greetingTimeout: 20_000, socketTimeout: 60_000 });
    } else {
      this.#outboxDir = config.mail.outboxDir;
      this.#transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    }
  }

  /**
   * One round: claims what is due — only the messages `ids` names, when given — and sends it, batch
   * after batch, until nothing is due or `stop` was called. Returns how many were sent.
   */
  async deliverDue(ids?: readonly string[]): Promise<number> {
    let sent = 0;
    while (!this.#stopping) {
      const now = this.#now();
      const batch = await this.outbox.claim(this.#worker, now, new Date(now.getTime() + LEASE_MS), BATCH, ids);
      if (batch.length === 0) break;
      const results = await Promise.all(batch.map((message) => this.#deliver(message)));
      sent += results.filter(Boolean).length;
    }
    return sent;
  }

  async #deliver(message: OutboxMessage): Promise<boolean> {
    const about = { outboxId: message.id, to: message.to, subject: message.subject };
    let body: MailBody;
    try {
      body = JSON.parse(this.box.open(message.sealedBody, bodyContext(message.id))) as MailBody;
    } catch {
      // No retry opens it until the key is back: failed at once, and a site admin retries it once it is.
      const reason = 'The message cannot be opened with ENCRYPTION_KEY or ENCRYPTION_KEYS_PREVIOUS.';
      await this.outbox.markFailed(message.id, this.#worker, this.#now(), reason);
      this.metrics.failed(message.message);
      this.log.error('e-mail could not be opened; check ENCRYPTION_KEY and ENCRYPTION_KEYS_PREVIOUS', about);
      return false;
    }
    try {
      await withTimeout(this.#send(message, body), SEND_TIMEOUT_MS);
    } catch (error) {
      await this.#failedAttempt(message, describeError(error));
      return false;
    }
    if (!(await this.outbox.markSent(message.id, this.#worker, this.#now()))) {
      this.log.warn('e-mail sent after its claim had run out; another worker may have sent it too', about);
    }
    this.metrics.sent(message.message);
    this.log.info('e-mail sent', { ...about, attempt: message.attempts });
    return true;
  }

  async #failedAttempt(message: OutboxMessage, error: string): Promise<void> {
    const about = { outboxId: message.id, to: message.to, subject: message.subject, attempt: message.attempts, error };
    const now = this.#now();
    const next = afterFailedAttempt(message.attempts, now, message.giveUpAt, this.config.mail.firstRetrySeconds * 1000);
    const recorded = next.kind === 'give-up'
      ? await this.outbox.markFailed(message.id, this.#worker, now, error)
      : await this.outbox.reschedule(message.id, this.#worker, next.at, error);
    if (!recorded) {
      this.log.warn('e-mail could not be sent, and its claim had run out: another worker has it now', about);
      return;
    }
    if (next.kind === 'give-up') {
      this.metrics.failed(message.message);
      this.log.error('e-mail could not be sent for 24 hours; giving up (site admins can retry it on /admin/site)', about);
      return;
    }
    this.metrics.deliveryError(message.message);
    this.log.warn('e-mail could not be sent; will retry', { ...about, retryAt: next.at.toISOString() });
  }

  async #send(message: OutboxMessage, body: MailBody): Promise<void> {
    const info = await this.#transport.sendMail({
      from: body.from,
      to: message.to,
      subject: message.subject,
      html: body.html,
      text: body.text,
      date: message.queuedAt,
      messageId: `<${message.id}@${this.#domain}>`,
    });
    if (this.#outboxDir) {
      await fs.promises.mkdir(this.#outboxDir, { recursive: true, mode: 0o700 });
      const name = `${message.queuedAt.toISOString().replace(/[:.]/g, '-')}-${message.id}.eml`;
      await fs.promises.writeFile(path.join(this.#outboxDir, name), info.message as Buffer, { mode: 0o600 });
    }
  }

  /** Ends the round in progress after its current batch; later rounds claim nothing. */
  stop(): void {
    this.#stopping = true;
  }

  close(): void {
    this.#stopping = true;
    this.#transport.close();
  }
}
