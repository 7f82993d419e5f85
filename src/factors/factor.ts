import type { SecondFactor, SecurityKey } from '../store/types.js';

export type FactorKind = 'totp' | 'recovery-code' | 'security-key';

/** One code checked against one factor. `accepted` means it was also spent: it will not work again. */
export type FactorCheck =
  /** `amr`: what the factor proves in RFC 8176 terms, when it says more than a code does (`hwk`, `swk`). */
  | { readonly kind: 'accepted'; readonly remaining?: number; readonly amr?: string }
  /** `regressed`: a security key answered with a signature counter that went backwards — perhaps a copy of it. */
  | { readonly kind: 'rejected'; readonly regressed?: { readonly keyName: string; readonly counter: number; readonly stored: number } }
  /** A right code that was already used (a passcode's time step, seen before). */
  | { readonly kind: 'replayed' };

/** What was typed, tidied — or a sentence saying what is wrong with it (nothing is counted against the user). */
export type ParsedCode = { readonly ok: true; readonly code: string } | { readonly ok: false; readonly problem: string };

/** What member lists and the account page show of a factor a user has. */
export interface FactorDescription {
  readonly kind: FactorKind;
  /** How many codes are left, for factors made of single-use codes. */
  readonly remaining?: number;
  /** How many the user has, for factors a user may have several of (security keys). */
  readonly count?: number;
}

/**
 * A second factor as the orchestration (src/application/second-factors.ts) sees it. Each factor
 * lives in its own folder and knows how it is checked, removed and described; how it is enrolled
 * is its own (a QR code and a first passcode, a set of codes, a security key). A challenge/response
 * factor (a security key) gets its "code" as the browser's signed answer, and checks it against the
 * challenge it issued under the same hold id (the sign-in). The orchestration
 * adds what every factor shares: attempt limits and lockout, audit entries, e-mails, and the rule.
 */
export interface SecondFactorMethod {
  readonly kind: FactorKind;
  /** The sentence a person sees when a well-formed code is not right. */
  readonly invalidSentence: string;
  parse(input: string): ParsedCode;
  /**
   * Checks the code for this user and spends it — single use, also when two requests race. `holdId`
   * names the sign-in (or account session) the code was entered in.
   */
  verify(userId: string, code: string, holdId: string): Promise<FactorCheck>;
  /** Null when the user does not have this factor. */
  describe(record: SecondFactor | null, keys: readonly SecurityKey[]): FactorDescription | null;
}
