import type { User } from '../store/types.js';

/** Whether an account may sign in, as the site console shows it beside each user (docs/rules.md, "People leave"). */
export type AccountStatus = 'active' | 'suspended';

/** The one place the console's lists, profiles and API read an account's status from. */
export function accountStatus(user: Pick<User, 'suspendedAt'>): AccountStatus {
  return user.suspendedAt === null ? 'active' : 'suspended';
}

/** Whether the account may sign in at all: not while it is suspended. */
export const isActive = (user: Pick<User, 'suspendedAt'>): boolean => accountStatus(user) === 'active';

/** What a suspended account is told — only once it has given its right password, so that it tells strangers nothing. */
export const SUSPENDED_SENTENCE = 'This account is suspended. Ask your organization\'s owner or IT team.';
