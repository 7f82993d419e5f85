import type { FactorKind } from '../factors/factor.js';

/** How a password check ended; `suspended`: the right password of a suspended account. */
export const SIGN_IN_OUTCOMES = ['ok', 'invalid', 'locked', 'suspended'] as const;
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

/**
 * How a second-factor check ended. `exhausted`: the sign-in used up its attempts. `skipped_in_grace`
 * and `remembered` belong to the grace period and to remembered browsers (docs/rules.md): their
 * counters are exported from the start, at zero, so that dashboards need no change when they come.
 */
export const SECOND_FACTOR_OUTCOMES = ['ok', 'invalid', 'replayed', 'locked', 'exhausted', 'skipped_in_grace', 'remembered'] as const;
export type SecondFactorOutcome = (typeof SECOND_FACTOR_OUTCOMES)[number];

/** What a lockout paused: an account's second factor, password sign-in for an email, or an address. */
export const LOCKOUT_KINDS = ['second_factor', 'password', 'address'] as const;
export type LockoutKind = (typeof LOCKOUT_KINDS)[number];

/**
 * What the use cases count, where the outcome is decided. The composition root passes the
 * Prometheus implementation (src/http/metrics.ts); nothing here knows how it is exported, and no
 * value that names a person is ever passed.
 */
export interface ApplicationMetrics {
  signIn(outcome: SignInOutcome): void;
  secondFactorCheck(factor: FactorKind, outcome: SecondFactorOutcome): void;
  lockout(kind: LockoutKind): void;
}
