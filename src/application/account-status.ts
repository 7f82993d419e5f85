import type { User } from '../store/types.js';

/** Whether an account may sign in, as the site console shows it beside each user. */
export type AccountStatus = 'active';

/**
 * The one place the console's lists, profiles and API read an account's status from. Every account
 * is active until accounts can be suspended; suspension then answers here, and every door shows it.
 */
export function accountStatus(_user: User): AccountStatus {
  return 'active';
}
