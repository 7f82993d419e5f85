import crypto from 'node:crypto';
import argon2 from 'argon2';

export interface PasswordHashParameters {
  readonly memoryKib: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/**
 * argon2id password hashing. `verifyNobody` spends the same work as a real verification so that an
 * unknown email cannot be told apart from a wrong password by response time.
 */
export class PasswordHasher {
  readonly #options: argon2.HashOptions;
  #dummyHash: Promise<string> | undefined;

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
    return argon2.hash(password, this.#options);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  async verifyNobody(password: string): Promise<false> {
    this.#dummyHash ??= this.hash(crypto.randomBytes(32).toString('base64url'));
    await this.verify(await this.#dummyHash, password);
    return false;
  }

  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.#options);
  }
}
