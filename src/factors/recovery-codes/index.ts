import type { SecretBox } from '../../security/secret-box.js';
import type { SecondFactor, Store, User } from '../../store/types.js';
import type { FactorCheck, FactorDescription, ParsedCode, SecondFactorMethod } from '../factor.js';
import { RECOVERY_PEPPER_PURPOSE, hashRecoveryCode, hashedForm, newRecoveryCodes, readRecoveryCode, recoveryCodeMatches } from './codes.js';

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
  readonly invalidSentence = 'That recovery code is not one of yours, or it was already used. Each code works once.';

  constructor(private readonly store: Pick<Store, 'secondFactors' | 'enrollments'>, private readonly box: SecretBox) {}

  parse(input: string): ParsedCode {
    const read = readRecoveryCode(input);
    return read.ok ? { ok: true, code: input } : { ok: false, problem: read.problem };
  }

  async verify(userId: string, code: string): Promise<FactorCheck> {
    const read = readRecoveryCode(code);
    const record = await this.store.secondFactors.find(userId);
    if (!record || !read.ok) return { kind: 'rejected' };
    const pepper = this.box.deriveKey(RECOVERY_PEPPER_PURPOSE, record.recoveryKeyId);
    const unused = record.recoveryCodes.filter((candidate) => candidate.usedAt === null);
    for (const candidate of unused) {
      if (await matchesAny(candidate.hash, read.forms, pepper)) {
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
    return { codes, keyId: this.box.currentKeyId, hashes: await Promise.all(codes.map((code) => hashRecoveryCode(hashedForm(code), pepper))) };
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

async function matchesAny(hash: string, forms: readonly string[], pepper: Buffer): Promise<boolean> {
  for (const form of forms) {
    if (await recoveryCodeMatches(hash, form, pepper)) return true;
  }
  return false;
}

export function remainingRecoveryCodes(record: SecondFactor | null): number {
  return record?.recoveryCodes.filter((code) => code.usedAt === null).length ?? 0;
}
