import crypto from 'node:crypto';
import os from 'node:os';
import argon2 from 'argon2';
import { hashFormat, verifyLegacyHash } from './legacy-hashes.js';

export interface PasswordHashParameters {
  readonly memoryKib: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** The argon2 parameters of a PHC string (`m=19456,t=2,p=1`), or the format's name for the imported ones. */
function costOf(hash: string): string {
  const [, algorithm, , parameters] = hash.split('$');
  return algorithm?.startsWith('argon2') ? `${algorithm} ${(parameters ?? '').split(',').sort().join(',')}` : hashFormat(hash) ?? 'malformed';
}

/**
 * argon2id password hashing. `verifyNobody` spends the same work as a real verification so that an
 * unknown email cannot be told apart from a wrong password by response time: one verification of a
 * hash made with the configured parameters. `work()` counts every computation by its cost, which is
 * how the tests prove it without timing anything.
 */
export class PasswordHasher {
  readonly #options: argon2.HashOptions;
  #dummyHash: Promise<string> | undefined;
  /**
   * At most one argon2 computation per core at a time: more would not finish sooner (each uses one
   * core), but each holds its memory cost (19 MiB by default) while it waits its turn.
   */
  readonly #slots = Math.max(1, os.availableParallelism());
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #work = new Map<string, number>();

  #count(cost: string): void {
    this.#work.set(cost, (this.#work.get(cost) ?? 0) + 1);
  }

  async #limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#slots) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running += 1;
    try {
      return await work();
    } finally {
      this.#running -= 1;
      this.#waiting.shift()?.();
    }
  }

  constructor(parameters: PasswordHashParameters) {
    this.#options = {
      type: argon2.argon2id,
      hashLength: 32,
      memoryCost: parameters.memoryKib,
      timeCost: parameters.iterations,
      parallelism: parameters.parallelism,
    };
  }

  hash(password: string): Promise<string> {
    this.#count(`argon2id m=${this.#options.memoryCost},p=${this.#options.parallelism},t=${this.#options.timeCost}`);
    return this.#limited(() => argon2.hash(password, this.#options));
  }

  /** Verifies argon2id, and the imported formats in legacy-hashes.ts; a malformed hash never matches. */
  async verify(hash: string, password: string): Promise<boolean> {
    this.#count(costOf(hash));
    try {
      return await this.#limited(() => (hash.startsWith('$argon2') ? argon2.verify(hash, password) : verifyLegacyHash(hash, password)));
    } catch {
      return false;
    }
  }

  async verifyNobody(password: string): Promise<false> {
    this.#dummyHash ??= this.hash(crypto.randomBytes(32).toString('base64url'));
    await this.verify(await this.#dummyHash, password);
    return false;
  }

  /** How many hashes and verifications this hasher computed, by cost ("argon2id m=19456,p=1,t=2"): a copy. */
  work(): Map<string, number> {
    return new Map(this.#work);
  }

  /** True for anything but argon2id at the configured parameters (imported hashes included). */
  needsRehash(hash: string): boolean {
    return hashFormat(hash) !== 'argon2id' || argon2.needsRehash(hash, this.#options);
  }
}
