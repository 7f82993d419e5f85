import crypto from 'node:crypto';
import os from 'node:os';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/index.js';
import type { SignOuts } from '../application/sign-outs.js';
import type { Logger } from '../log.js';
import { afterFailedAttempt } from '../mail/retry-policy.js';
import type { LogoutNotice, LogoutNoticeRepository } from '../store/types.js';

/** Notices claimed and sent at once by one round. */
const BATCH = 8;
/**
 * oidc-provider gives an application 2.5 s to answer a logout token; a claim outlives that by far, so
 * only a worker that stopped mid-send lets another send the token again.
 */
export const LOGOUT_LEASE_MS = 60_000;
const ERROR_LENGTH = 300;

type OidcClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;
/** oidc-provider's own sending of one logout token: it builds and signs the token for the client, and POSTs it. */
export type SendLogoutToken = (client: OidcClient, sub: string, sid: string) => Promise<void>;

interface ClientWithBackchannelLogout {
  readonly clientId: string;
  backchannelLogout(sub: string, sid: string): Promise<void>;
}

/**
 * oidc-provider's end-session endpoint (RP-initiated logout) sends logout tokens itself, inline, once,
 * without a retry. This makes its call record the notice in the durable queue instead, before the
 * session is destroyed, so that signing out reaches the applications like every other way a session
 * ends — once, retried, kept across restarts. Returns oidc-provider's own sending, for the worker.
 */
export function queueEndSessionLogoutTokens(provider: Provider, signOuts: Pick<SignOuts, 'tellApplications'>): SendLogoutToken {
  const prototype = provider.Client.prototype as unknown as ClientWithBackchannelLogout;
  const send = prototype.backchannelLogout;
  prototype.backchannelLogout = function queueLogoutToken(this: ClientWithBackchannelLogout, sub: string, sid: string) {
    return signOuts.tellApplications(sub, [{ clientId: this.clientId, sid }]);
  };
  return (client, sub, sid) => send.call(client as unknown as ClientWithBackchannelLogout, sub, sid);
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
  return message.replace(/\s+/g, ' ').trim().slice(0, ERROR_LENGTH) || 'unknown error';
}

export const LOGOUT_TOKEN_OUTCOMES = ['sent', 'retried', 'failed'] as const;
export type LogoutTokenOutcome = (typeof LOGOUT_TOKEN_OUTCOMES)[number];

/** What the delivery counts (never by application or person). */
export interface LogoutTokenMetrics {
  logoutToken(outcome: LogoutTokenOutcome): void;
}

export interface LogoutTokenDeliveryOptions {
  /** Names this worker in the claims it takes; unique per process. */
  readonly worker?: string;
  readonly now?: () => Date;
}

/**
 * The worker's side of OpenID Connect Back-Channel Logout 1.0 (docs/rules.md, "People leave"): claims
 * the due notices with a lease, has oidc-provider build, sign and POST each logout token to the
 * application's back-channel logout URI, and records the outcome — sent, retried with the e-mails'
 * backoff, or after 24 hours given up on (logged). The token is built at each attempt, so a retry
 * never sends one that has expired.
 */
export class LogoutTokenDelivery {
  readonly #worker: string;
  readonly #now: () => Date;
  #stopping = false;

  constructor(
    private readonly provider: Provider,
    private readonly notices: LogoutNoticeRepository,
    private readonly send: SendLogoutToken,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly metrics: LogoutTokenMetrics,
    { worker = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`, now = () => new Date() }: LogoutTokenDeliveryOptions = {},
  ) {
    this.#worker = worker;
    this.#now = now;
  }

  /** One round: claims what is due (only `ids`, when given) and sends it, batch after batch; returns how many were sent. */
  async deliverDue(ids?: readonly string[]): Promise<number> {
    let sent = 0;
    while (!this.#stopping) {
      const now = this.#now();
      const batch = await this.notices.claim(this.#worker, now, new Date(now.getTime() + LOGOUT_LEASE_MS), BATCH, ids);
      if (batch.length === 0) break;
      sent += (await Promise.all(batch.map((notice) => this.#deliver(notice)))).filter(Boolean).length;
    }
    return sent;
  }

  async #deliver(notice: LogoutNotice): Promise<boolean> {
    const about = { logoutNoticeId: notice.id, clientId: notice.clientId, accountId: notice.accountId, attempt: notice.attempts };
    const client = await this.provider.Client.find(notice.clientId);
    if (!client?.backchannelLogoutUri) {
      await this.notices.markFailed(notice.id, this.#worker, this.#now(), 'the application has no back-channel logout URI any more');
      this.metrics.logoutToken('failed');
      this.log.warn('logout token not sent: the application has no back-channel logout URI any more', about);
      return false;
    }
    try {
      await this.send(client, notice.accountId, notice.sid);
    } catch (error) {
      await this.#failedAttempt(notice, describeError(error));
      return false;
    }
    if (!(await this.notices.markSent(notice.id, this.#worker, this.#now()))) {
      this.log.warn('logout token sent after its claim had run out; another worker may have sent it too', about);
    }
    this.metrics.logoutToken('sent');
    this.log.info('logout token sent', about);
    return true;
  }

  async #failedAttempt(notice: LogoutNotice, error: string): Promise<void> {
    const about = { logoutNoticeId: notice.id, clientId: notice.clientId, attempt: notice.attempts, error };
    const now = this.#now();
    const next = afterFailedAttempt(notice.attempts, now, notice.giveUpAt, this.config.mail.firstRetrySeconds * 1000);
    const recorded = next.kind === 'give-up'
      ? await this.notices.markFailed(notice.id, this.#worker, now, error)
      : await this.notices.reschedule(notice.id, this.#worker, next.at, error);
    if (!recorded) {
      this.log.warn('logout token not taken, and its claim had run out: another worker has it now', about);
    } else if (next.kind === 'give-up') {
      this.metrics.logoutToken('failed');
      this.log.error('logout token not taken for 24 hours; giving up (check the application\'s back-channel logout URI)', about);
    } else {
      this.metrics.logoutToken('retried');
      this.log.warn('logout token not taken by the application; will retry', { ...about, retryAt: next.at.toISOString() });
    }
  }

  /** Ends the round in progress after its current batch; later rounds claim nothing. */
  stop(): void {
    this.#stopping = true;
  }
}
