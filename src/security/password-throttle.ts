import crypto from 'node:crypto';
import type { Config } from '../../config/index.js';
import type { AttemptRepository } from '../store/types.js';

export interface PasswordAttempt {
  readonly allowed: boolean;
  /** This attempt, one too many, paused the email (of racing attempts, one does). */
  readonly locked: boolean;
  readonly emailKey: string;
  readonly ipKey: string;
  readonly count: number;
}

/**
 * Throttles password guessing per email (consecutive failures pause that email, whether or not it
 * has an account, so the pause reveals nothing) and per IP address (failures in a window). The email
 * counter is charged before the password is checked, so parallel guesses cannot race past it.
 */
export class PasswordThrottle {
  constructor(private readonly attempts: AttemptRepository, private readonly limits: Config['lockout']) {}

  #minutes = (now: Date, minutes: number) => new Date(now.getTime() + minutes * 60_000);

  async begin(email: string, ip: string, now = new Date()): Promise<PasswordAttempt> {
    // Hashed: whatever was typed (unknown emails, control characters) never lands in the store as it is.
    const emailKey = `password:email:${crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
    const ipKey = `password:ip:${ip}`;
    const ipState = await this.attempts.peek(ipKey, now);
    if (ipState?.lockedUntil) return { allowed: false, locked: false, emailKey, ipKey, count: ipState.count };
    const state = await this.attempts.charge(emailKey, now, this.#minutes(now, 2 * this.limits.passwordMinutes));
    const allowed = state.lockedUntil === null && state.count <= this.limits.passwordThreshold;
    const locked = !allowed && (await this.attempts.lock(emailKey, this.#minutes(now, this.limits.passwordMinutes), now));
    return { allowed, locked, emailKey, ipKey, count: state.count };
  }

  /** Counts a wrong password; says what this failure paused (the email, the address), for the lockout counters. */
  async failed(attempt: PasswordAttempt, now = new Date()): Promise<{ email: boolean; address: boolean }> {
    const email = attempt.count >= this.limits.passwordThreshold && (await this.attempts.lock(attempt.emailKey, this.#minutes(now, this.limits.passwordMinutes), now));
    const ip = await this.attempts.charge(attempt.ipKey, now, this.#minutes(now, this.limits.passwordMinutes));
    const address = ip.count >= this.limits.passwordPerIpPerWindow && (await this.attempts.lock(attempt.ipKey, this.#minutes(now, this.limits.passwordMinutes), now));
    return { email, address };
  }

  async succeeded(attempt: PasswordAttempt): Promise<void> {
    await this.attempts.reset(attempt.emailKey);
  }
}
