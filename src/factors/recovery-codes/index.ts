import type { SecretBox } from '../../security/secret-box.js';
import type { SecondFactor, Store, User } from '../../store/types.js';
import type { FactorCheck, FactorDescription, SecondFactorMethod } from '../factor.js';
import { RECOVERY_PEPPER_PURPOSE, hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, recoveryCodeMatches } from './codes.js';

const heldContext = (holdId: string) => `enrollment-codes:${holdId}`;
const HELD_TTL_MS = 60 * 60 * 1000;

/** A new set of codes, and what the store keeps of them: hashes keyed with the current pepper. */
export interface RecoveryCodeSet {
  readonly codes: string[];
  readonly keyId: string;
  readonly hashes: string[];
}

/**
 * Recovery codes (docs/rules.md, "Challenge and recovery"): ten single-use codes that stand in for
 * any other factor. Only their peppered hashes are stored; a new set is held (sealed) under a hold
 * id until the person has seen it once.
 */
export class RecoveryCodeFactor implements SecondFactorMethod {
  readonly kind = 'recovery-code';
  readonly sentences = {
    malformed: 'A recovery code has 10 letters and digits, like abcde-23456.',
    invalid: 'That recovery code is not valid or was already used.',
  } as const;

  constructor(private readonly store: Pick<Store, 'secondFactors' | 'enrollments'>, private readonly box: SecretBox) {}

  parse(input: string): string | null {
    return normalizeRecoveryCode(input);
  }

  async verify(userId: string, code: string): Promise<FactorCheck> {
    const record = await this.store.secondFactors.find(userId);
    if (!record) return { kind: 'rejected' };
    const pepper = this.box.deriveKey(RECOVERY_PEPPER_PURPOSE, record.recoveryKeyId);
    const unused = record.recoveryCodes.filter((candidate) => candidate.usedAt === null);
    for (const candidate of unused) {
      if (await recoveryCodeMatches(candidate.hash, code, pepper)) {
        // The conditional update spends it: of two requests racing with the same code, one wins.
        if (!(await this.store.secondFactors.useRecoveryCode(userId, candidate.id))) return { kind: 'rejected' };
        return { kind: 'accepted', remaining: unused.length - 1 };
      }
    }
    return { kind: 'rejected' };
  }

  describe(record: SecondFactor | null): FactorDescription | null {
    return record ? { kind: this.kind, remaining: remainingRecoveryCodes(record) } : null;
  }

  async newSet(): Promise<RecoveryCodeSet> {
    const codes = newRecoveryCodes();
    const pepper = this.box.deriveKey(RECOVERY_PEPPER_PURPOSE);
    return { codes, keyId: this.box.currentKeyId, hashes: await Promise.all(codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!, pepper))) };
  }

  /** Replaces the user's whole set; the new codes, or null when the user has no second factor. */
  async replace(userId: string): Promise<string[] | null> {
    const set = await this.newSet();
    return (await this.store.secondFactors.replaceRecoveryCodes(userId, set.keyId, set.hashes)) ? set.codes : null;
  }

  /** Keeps new codes, sealed, under `holdId` until the person has seen them. */
  async hold(holdId: string, user: User, codes: readonly string[]): Promise<void> {
    await this.store.enrollments.put({
      id: holdId,
      userId: user.id,
      sealedSecret: null,
      sealedRecoveryCodes: this.box.seal(JSON.stringify(codes), heldContext(holdId)),
      expiresAt: new Date(Date.now() + HELD_TTL_MS),
    });
  }

  /** The codes held under `holdId` for this user, or null. */
  async held(holdId: string, user: User): Promise<string[] | null> {
    const pending = await this.store.enrollments.find(holdId);
    if (!pending || pending.userId !== user.id || pending.sealedRecoveryCodes === null) return null;
    return JSON.parse(this.box.open(pending.sealedRecoveryCodes, heldContext(holdId))) as string[];
  }
}

export function remainingRecoveryCodes(record: SecondFactor | null): number {
  return record?.recoveryCodes.filter((code) => code.usedAt === null).length ?? 0;
}
