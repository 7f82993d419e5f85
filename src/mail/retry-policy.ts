/** How long Twofold keeps offering a message to the mail server before it gives up and lists it for site admins. */
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

/** The longest wait between two attempts, so that a server back after a long outage gets its mail within the hour. */
export const LONGEST_WAIT_MS = 3_600_000;

export type AfterFailure = { readonly kind: 'retry'; readonly at: Date } | { readonly kind: 'give-up' };

/**
 * What follows the `attempts`-th failed attempt at `now`: another after `firstRetryMs`, doubling with
 * each attempt up to an hour and never later than `giveUpAt` — so the last attempt is made at that
 * moment — and, once it has passed, giving up.
 */
export function afterFailedAttempt(attempts: number, now: Date, giveUpAt: Date, firstRetryMs: number): AfterFailure {
  if (now.getTime() >= giveUpAt.getTime()) return { kind: 'give-up' };
  const wait = Math.min(firstRetryMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30), LONGEST_WAIT_MS);
  return { kind: 'retry', at: new Date(Math.min(now.getTime() + wait, giveUpAt.getTime())) };
}
