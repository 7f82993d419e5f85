import type { User } from '../store/types.js';

/** Whether the account may sign in at all: not while it is suspended (docs/rules.md, "People leave"). */
export const isActive = (user: Pick<User, 'suspendedAt'>): boolean => user.suspendedAt === null;

/** What a suspended account is told — only once it has given its right password, so that it tells strangers nothing. */
export const SUSPENDED_SENTENCE = 'This account is suspended. Ask your organization\'s owner or IT team.';
