import type { SecondFactor } from '../store/types.js';

export type FactorKind = 'totp' | 'recovery-code';

/** One code checked against one factor. `accepted` means it was also spent: it will not work again. */
export type FactorCheck =
  | { readonly kind: 'accepted'; readonly remaining?: number }
  | { readonly kind: 'rejected' }
  /** A right code that was already used (a passcode's time step, seen before). */
  | { readonly kind: 'replayed' };

/** What was typed, tidied — or a sentence saying what is wrong with it (nothing is counted against the user). */
export type ParsedCode = { readonly ok: true; readonly code: string } | { readonly ok: false; readonly problem: string };

/** What member lists and the account page show of a factor a user has. */
export interface FactorDescription {
  readonly kind: FactorKind;
  /** How many codes are left, for factors made of single-use codes. */
  readonly remaining?: number;
}

/**
 * A second factor as the orchestration (src/application/second-factors.ts) sees it. Each factor
 * lives in its own folder and knows how it is checked, removed and described; how it is enrolled
 * is its own (a QR code and a first passcode, a set of codes, a security key). The orchestration
 * adds what every factor shares: attempt limits and lockout, audit entries, e-mails, and the rule.
 */
export interface SecondFactorMethod {
  readonly kind: FactorKind;
  /** The sentence a person sees when a well-formed code is not right. */
  readonly invalidSentence: string;
  parse(input: string): ParsedCode;
  /** Checks the code for this user and spends it — single use, also when two requests race. */
  verify(userId: string, code: string): Promise<FactorCheck>;
  /** Null when the user does not have this factor. */
  describe(record: SecondFactor | null): FactorDescription | null;
}
