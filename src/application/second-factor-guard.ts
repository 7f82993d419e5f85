import type { Config } from '../../config/index.js';
import type { AttemptRepository } from '../store/types.js';

export type GuardOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'invalid' }
  /** This sign-in used up its attempts; it must be started again. */
  | { readonly kind: 'exhausted'; readonly failures: number; readonly justExhausted: boolean }
  /** The account is locked for second-factor attempts. */
  | { readonly kind: 'locked'; readonly until: Date; readonly justLocked: boolean; readonly failures: number };

export type ChallengeStanding = { readonly kind: 'open' } | { readonly kind: 'exhausted' } | { readonly kind: 'locked'; readonly until: Date };

/**
 * Bounds second-factor guessing (docs/rules.md, "Challenge and recovery"): a number of wrong codes per sign-in, and a lockout of the
 * account after consecutive failures. Both counters are charged atomically *before* the code is
 * checked, so twenty parallel guesses count as twenty; a success resets the account counter.
 */
export class SecondFactorGuard {
  constructor(private readonly attempts: AttemptRepository, private readonly limits: Config['lockout']) {}

  /** Where this sign-in and this account stand, without counting an attempt: shown before any code is typed. */
  async standing(userId: string, signInKey: string, now = new Date()): Promise<ChallengeStanding> {
    const account = await this.attempts.peek(`second-factor:account:${userId}`, now);
    if (account?.lockedUntil) return { kind: 'locked', until: account.lockedUntil };
    const signIn = await this.attempts.peek(`second-factor:sign-in:${signInKey}`, now);
    return (signIn?.count ?? 0) >= this.limits.secondFactorPerSignIn ? { kind: 'exhausted' } : { kind: 'open' };
  }

  async attempt<T>(userId: string, signInKey: string, verify: () => Promise<T | null>, now = new Date()): Promise<GuardOutcome<T>> {
    const lockMs = this.limits.secondFactorMinutes * 60_000;
    const accountKey = `second-factor:account:${userId}`;
    const signIn = await this.attempts.charge(`second-factor:sign-in:${signInKey}`, now, new Date(now.getTime() + 2 * 3_600_000));
    if (signIn.count > this.limits.secondFactorPerSignIn) return { kind: 'exhausted', failures: signIn.count - 1, justExhausted: false };

    const account = await this.attempts.charge(accountKey, now, new Date(now.getTime() + 2 * lockMs));
    if (account.lockedUntil) return { kind: 'locked', until: account.lockedUntil, justLocked: false, failures: account.count - 1 };
    if (account.count > this.limits.secondFactorThreshold) {
      const until = new Date(now.getTime() + lockMs);
      const justLocked = await this.attempts.lock(accountKey, until, now);
      return { kind: 'locked', until, justLocked, failures: account.count - 1 };
    }

    const value = await verify();
    if (value !== null) {
      await this.attempts.reset(accountKey);
      return { kind: 'ok', value };
    }
    if (account.count >= this.limits.secondFactorThreshold) {
      const until = new Date(now.getTime() + lockMs);
      return { kind: 'locked', until, justLocked: await this.attempts.lock(accountKey, until, now), failures: account.count };
    }
    if (signIn.count >= this.limits.secondFactorPerSignIn) return { kind: 'exhausted', failures: signIn.count, justExhausted: true };
    return { kind: 'invalid' };
  }
}
