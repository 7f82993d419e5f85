import crypto from 'node:crypto';
import net from 'node:net';
import type { Middleware } from 'koa';
import client from 'prom-client';
import { LOCKOUT_KINDS, SECOND_FACTOR_OUTCOMES, SIGN_IN_OUTCOMES, type ApplicationMetrics, type LockoutKind, type SecondFactorOutcome, type SignInOutcome } from '../application/metrics.js';
import type { FactorKind } from '../factors/factor.js';
import type { MailMetrics } from '../mail/mailer.js';
import { LOGOUT_TOKEN_OUTCOMES, type LogoutTokenMetrics, type LogoutTokenOutcome } from '../provider/back-channel-logout.js';
import { MESSAGES } from '../mail/messages.js';
import type { OutboxDepth } from '../store/types.js';

const FACTORS: readonly FactorKind[] = ['totp', 'recovery-code', 'security-key'];
const MESSAGE_NAMES = Object.keys(MESSAGES);

/** One scrape reads the outbox once for its three gauges. */
const DEPTH_REUSED_MS = 1000;

/**
 * Twofold's Prometheus metrics, in a registry of its own (no global state: two instances in one
 * process keep theirs apart). Labels are route groups, outcomes, factor kinds and message names,
 * each from a fixed list — never an email, a user id or a path. Counters with known labels start at
 * zero, so a rate is defined before the first event.
 */
export class TwofoldMetrics implements ApplicationMetrics, MailMetrics, LogoutTokenMetrics {
  readonly registry = new client.Registry();
  readonly #requests = new client.Counter({
    name: 'twofold_http_requests_total',
    help: 'HTTP requests answered, by route group and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly #duration = new client.Histogram({
    name: 'twofold_http_request_duration_seconds',
    help: 'Time from a request\'s arrival to the end of its response, by route group and status code.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #signIns = new client.Counter({
    name: 'twofold_sign_ins_total',
    help: 'Password checks at sign-in, by outcome: ok, invalid (wrong email or password), locked (throttled), suspended (the right password of a suspended account).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #secondFactor = new client.Counter({
    name: 'twofold_second_factor_checks_total',
    help: 'Second-factor codes checked, by factor and outcome: ok, invalid, replayed, locked, exhausted (the sign-in used up its attempts), skipped_in_grace, remembered.',
    labelNames: ['factor', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #lockouts = new client.Counter({
    name: 'twofold_lockouts_total',
    help: 'Lockouts begun, by what was paused: second_factor (an account), password (sign-in for an email), address (an IP address).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly #logoutTokens = new client.Counter({
    name: 'twofold_logout_tokens_total',
    help: 'Logout tokens for applications (back-channel logout), by outcome: sent, retried (the application did not take it; tried again later), failed (given up on after 24 hours).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #queued = this.#mailCounter('twofold_emails_queued_total', 'E-mails recorded in the outbox, by message.');
  readonly #sent = this.#mailCounter('twofold_emails_sent_total', 'E-mails the mail server took, by message.');
  readonly #deliveryErrors = this.#mailCounter('twofold_email_delivery_errors_total', 'Attempts the mail server did not take (each is retried), by message.');
  readonly #failed = this.#mailCounter('twofold_emails_failed_total', 'E-mails given up on after 24 hours of retries, by message.');
  #depth: (() => Promise<OutboxDepth>) | undefined;
  #lastDepth: { at: number; value: Promise<OutboxDepth | null> } | undefined;

  constructor() {
    for (const outcome of SIGN_IN_OUTCOMES) this.#signIns.inc({ outcome }, 0);
    for (const factor of FACTORS) for (const outcome of SECOND_FACTOR_OUTCOMES) this.#secondFactor.inc({ factor, outcome }, 0);
    for (const kind of LOCKOUT_KINDS) this.#lockouts.inc({ kind }, 0);
    for (const outcome of LOGOUT_TOKEN_OUTCOMES) this.#logoutTokens.inc({ outcome }, 0);
    for (const counter of [this.#queued, this.#sent, this.#deliveryErrors, this.#failed]) for (const message of MESSAGE_NAMES) counter.inc({ message }, 0);
    const readDepth = () => this.#readDepth();
    const outbox = (read: (depth: OutboxDepth) => number) => async function collect(this: client.Gauge) {
      // A store that cannot be read gives no number rather than a stale one.
      const depth = await readDepth();
      this.set(depth ? read(depth) : Number.NaN);
    };
    new client.Gauge({ name: 'twofold_outbox_pending', help: 'E-mails in the outbox not yet sent nor given up on.', registers: [this.registry], collect: outbox((depth) => depth.pending) });
    new client.Gauge({
      name: 'twofold_outbox_oldest_pending_age_seconds',
      help: 'How long the oldest pending e-mail has waited in the outbox (0 when none).',
      registers: [this.registry],
      collect: outbox((depth) => (depth.oldestQueuedAt ? Math.max(0, (Date.now() - depth.oldestQueuedAt.getTime()) / 1000) : 0)),
    });
    new client.Gauge({ name: 'twofold_outbox_failed', help: 'E-mails given up on, waiting for a site admin\'s Retry on /admin/site.', registers: [this.registry], collect: outbox((depth) => depth.failed) });
  }

  /** The process's CPU, memory, event loop and garbage collection (prom-client's defaults), for a server. */
  collectProcessMetrics(): void {
    client.collectDefaultMetrics({ register: this.registry });
  }

  /** Where the outbox gauges read from. */
  observeOutbox(depth: () => Promise<OutboxDepth>): void {
    this.#depth = depth;
  }

  request(route: string, status: number, seconds: number): void {
    const labels = { route, status: String(status) };
    this.#requests.inc(labels);
    this.#duration.observe(labels, seconds);
  }

  signIn(outcome: SignInOutcome): void {
    this.#signIns.inc({ outcome });
  }

  secondFactorCheck(factor: FactorKind, outcome: SecondFactorOutcome): void {
    this.#secondFactor.inc({ factor, outcome });
  }

  lockout(kind: LockoutKind): void {
    this.#lockouts.inc({ kind });
  }

  logoutToken(outcome: LogoutTokenOutcome): void {
    this.#logoutTokens.inc({ outcome });
  }

  queued(message: string): void {
    this.#queued.inc({ message });
  }

  sent(message: string): void {
    this.#sent.inc({ message });
  }

  deliveryError(message: string): void {
    this.#deliveryErrors.inc({ message });
  }

  failed(message: string): void {
    this.#failed.inc({ message });
  }

  #mailCounter(name: string, help: string) {
    return new client.Counter({ name, help, labelNames: ['message'] as const, registers: [this.registry] });
  }

  #readDepth(): Promise<OutboxDepth | null> {
    if (!this.#depth) return Promise.resolve(null);
    if (!this.#lastDepth || Date.now() - this.#lastDepth.at > DEPTH_REUSED_MS) {
      this.#lastDepth = { at: Date.now(), value: this.#depth().catch(() => null) };
    }
    return this.#lastDepth.value;
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string): boolean {
  const bare = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  return bare === '::1';
}

function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => crypto.createHash('sha256').update(value).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/**
 * GET /metrics in Prometheus's text format, for a scraper on this host — the client's address as
 * Koa sees it, so behind TRUST_PROXY proxies it is the forwarded client's, not the proxy's — or
 * anywhere with `Authorization: Bearer <METRICS_TOKEN>`.
 */
export function metricsEndpoint({ metrics, token }: { metrics: TwofoldMetrics; token: string | undefined }): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics') return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    const bearer = /^Bearer (\S+)$/i.exec(ctx.get('Authorization'))?.[1];
    if (!isLoopback(ctx.ip) && !(token && bearer && sameToken(bearer, token))) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.type = 'text/plain';
      ctx.body = 'Metrics are served to this host, or to a scraper that sends Authorization: Bearer with the METRICS_TOKEN.\n';
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}
