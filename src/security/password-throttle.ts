import crypto from 'node:crypto';
import type { Config } from '../../config/index.js';
import type { AttemptRepository } from '../store/types.js';

export interface PasswordAttempt {
  readonly allowed: boolean;
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
    if (ipState?.lockedUntil) return { allowed: false, emailKey, ipKey, count: ipState.count };
    const state = await this.attempts.charge(emailKey, now, this.#minutes(now, 2 * this.limits.passwordMinutes));
    const allowed = state.lockedUntil === null && state.count <= this.limits.passwordThreshold;
    if (!allowed) await this.attempts.lock(emailKey, this.#minutes(now, this.limits.passwordMinutes), now);
    return { allowed, emailKey, ipKey, count: state.count };
  }

  async failed(attempt: PasswordAttempt, now = new Date()): Promise<void> {
    if (attempt.count >= this.limits.passwordThreshold) await this.attempts.lock(attempt.emailKey, this.#minutes(now, this.limits.passwordMinutes), now);
    const ip = await this.attempts.charge(attempt.ipKey, now, this.#minutes(now, this.limits.passwordMinutes));
    if (ip.count >= this.limits.passwordPerIpPerWindow) await this.attempts.lock(attempt.ipKey, this.#minutes(now, this.limits.passwordMinutes), now);
  }

  async succeeded(attempt: PasswordAttempt): Promise<void> {
    await this.attempts.reset(attempt.emailKey);
  }
}
