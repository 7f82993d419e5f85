import type { Config } from '../../config/index.js';
import type { Application } from '../application/index.js';
import type { Logger } from '../log.js';
import type { MailDelivery } from '../mail/delivery.js';
import type { LogoutTokenDelivery } from '../provider/back-channel-logout.js';
import type { Store } from '../store/types.js';
import type { PeriodicJob } from './periodic-jobs.js';

export const DELIVER_MAIL = 'deliver-mail';
export const DELIVER_LOGOUT_TOKENS = 'deliver-logout-tokens';
export const SEND_SETUP_REMINDERS = 'send-setup-reminders';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Sent messages stay a week (their bodies are gone already): what was sent lately, for an operator's question. */
const SENT_KEPT_MS = 7 * DAY_MS;
/** A failed message waits a month for a site admin's Retry. */
const FAILED_KEPT_MS = 30 * DAY_MS;
/** A logout notice, once sent or given up on, is kept a week: which applications were told, for an operator's question. */
const LOGOUT_NOTICES_KEPT_MS = 7 * DAY_MS;

const HOUR_MS = 60 * MINUTE_MS;

/**
 * Twofold's periodic jobs, run by every server process (src/worker/periodic-jobs.ts). Each is safe
 * with several processes: reminders are claimed in the store, adoption snapshots are one per
 * organization and day, and the rest is idempotent.
 */
export function twofoldJobs({ config, store, application, delivery, logoutTokens, log }: {
  config: Config;
  store: Pick<Store, 'oidc' | 'attempts' | 'audit' | 'outbox' | 'rememberedBrowsers' | 'logoutNotices'>;
  application: Pick<Application, 'setupReminders' | 'organizations'>;
  delivery: MailDelivery;
  logoutTokens: Pick<LogoutTokenDelivery, 'deliverDue'>;
  log: Logger;
}): PeriodicJob[] {
  return [
    {
      name: DELIVER_MAIL,
      everyMs: config.mail.pollSeconds * 1000,
      run: () => delivery.deliverDue(),
    },
    {
      // The same pace as the mail: what this process queued goes at once, the rest at the next turn.
      name: DELIVER_LOGOUT_TOKENS,
      everyMs: config.mail.pollSeconds * 1000,
      run: () => logoutTokens.deliverDue(),
    },
    {
      name: 'purge-expired',
      everyMs: 10 * MINUTE_MS,
      run: () => Promise.all([store.oidc.purgeExpired(), store.attempts.purgeExpired(), store.rememberedBrowsers.purgeExpired(new Date())]),
    },
    {
      // Hourly, so that a reminder goes out within the hour it falls due, also after a restart.
      name: SEND_SETUP_REMINDERS,
      everyMs: HOUR_MS,
      run: () => application.setupReminders.sendDue(),
    },
    {
      // Hourly as well: the day's snapshot keeps that day's latest figures.
      name: 'record-adoption',
      everyMs: HOUR_MS,
      run: () => application.organizations.recordAdoption(),
    },
    {
      name: 'prune-history',
      everyMs: DAY_MS,
      async run() {
        const now = Date.now();
        const auditEvents = await store.audit.deleteOlderThan(new Date(now - config.auditRetentionDays * DAY_MS));
        const outboxMessages = await store.outbox.purge(new Date(now - SENT_KEPT_MS), new Date(now - FAILED_KEPT_MS));
        const logoutNotices = await store.logoutNotices.purge(new Date(now - LOGOUT_NOTICES_KEPT_MS));
        log.info('pruned the audit log, the mail outbox and the logout notices', { auditEvents, outboxMessages, logoutNotices, auditRetentionDays: config.auditRetentionDays });
      },
    },
  ];
}
