import type { SecretBox } from '../../security/secret-box.js';
import type { SecondFactor, Store, User } from '../../store/types.js';
import type { FactorCheck, FactorDescription, ParsedCode, SecondFactorMethod } from '../factor.js';
import { qrCodeDataUrl } from './qr-code.js';
import { formatSecret, matchTotp, newTotpSecret, otpauthUri, parsePasscode, passcodeProblem } from './totp.js';

/** Binds a sealed TOTP secret to its user: copied to another row, it does not open. */
const secretContext = (userId: string) => `totp:${userId}`;
const pendingContext = (holdId: string) => `enrollment-secret:${holdId}`;
const PENDING_TTL_MS = 60 * 60 * 1000;

export function sealTotpSecret(box: SecretBox, userId: string, secret: string): string {
  return box.seal(secret, secretContext(userId));
}

export interface TotpSetupView {
  readonly secret: string;
  readonly uri: string;
  readonly qrCode: string;
}

export type TotpProof =
  | { readonly ok: true; readonly sealedSecret: string; readonly timeStep: number }
  | { readonly ok: false; readonly reason: 'expired' | 'invalid' }
  | { readonly ok: false; readonly reason: 'malformed'; readonly problem: string };

/**
 * An authenticator app (TOTP, RFC 6238; docs/rules.md, "Setup"). Setting it up keeps a new secret
 * server-side, sealed, under a hold id (a sign-in, or an account-page session) until a code proves
 * it; checking a code accepts only a time step newer than the last one accepted (the store's
 * conditional update decides races).
 */
export class TotpFactor implements SecondFactorMethod {
  readonly kind = 'totp';
  readonly invalidSentence = 'That code is not valid or has expired.';

  constructor(
    private readonly store: Pick<Store, 'secondFactors' | 'enrollments'>,
    private readonly box: SecretBox,
    private readonly issuerName: string,
  ) {}

  parse(input: string): ParsedCode {
    const code = parsePasscode(input);
    return code ? { ok: true, code } : { ok: false, problem: passcodeProblem(input) };
  }

  async verify(userId: string, code: string): Promise<FactorCheck> {
    const record = await this.store.secondFactors.find(userId);
    if (!record?.sealedSecret) return { kind: 'rejected' };
    const secret = this.box.open(record.sealedSecret, secretContext(userId));
    const timeStep = await matchTotp(secret, code, record.lastTimeStep);
    if (timeStep !== null && (await this.store.secondFactors.acceptTimeStep(userId, timeStep))) return { kind: 'accepted' };
    // Right code, but its time step was accepted already (here, or by the request it raced).
    if (timeStep !== null || (await matchTotp(secret, code)) !== null) return { kind: 'replayed' };
    return { kind: 'rejected' };
  }

  describe(record: SecondFactor | null): FactorDescription | null {
    return record?.sealedSecret ? { kind: this.kind } : null;
  }

  /** The setup held under `holdId`, or a new one with a fresh secret. */
  async begin(holdId: string, user: User): Promise<TotpSetupView> {
    let pending = await this.store.enrollments.find(holdId);
    if (!pending?.sealedSecret || pending.userId !== user.id || pending.sealedRecoveryCodes !== null) {
      pending = { id: holdId, userId: user.id, sealedSecret: this.box.seal(newTotpSecret(), pendingContext(holdId)), sealedRecoveryCodes: null, expiresAt: new Date(Date.now() + PENDING_TTL_MS) };
      await this.store.enrollments.put(pending);
    }
    const secret = this.box.open(pending.sealedSecret!, pendingContext(holdId));
    const uri = otpauthUri(this.issuerName, user.email, secret);
    return { secret: formatSecret(secret), uri, qrCode: await qrCodeDataUrl(uri) };
  }

  /** Whether the setup held under `holdId` is still waiting for its first code. */
  async pending(holdId: string, user: User): Promise<boolean> {
    const held = await this.store.enrollments.find(holdId);
    return held?.sealedSecret !== null && held?.sealedSecret !== undefined && held.userId === user.id;
  }

  /** Checks the first code against the held secret; on success, the secret sealed for the user, ready to save. */
  async prove(holdId: string, user: User, input: string): Promise<TotpProof> {
    const code = parsePasscode(input);
    if (!code) return { ok: false, reason: 'malformed', problem: passcodeProblem(input) };
    const pending = await this.store.enrollments.find(holdId);
    if (!pending?.sealedSecret || pending.userId !== user.id || pending.sealedRecoveryCodes !== null) return { ok: false, reason: 'expired' };
    const secret = this.box.open(pending.sealedSecret, pendingContext(holdId));
    const timeStep = await matchTotp(secret, code);
    if (timeStep === null) return { ok: false, reason: 'invalid' };
    return { ok: true, sealedSecret: sealTotpSecret(this.box, user.id, secret), timeStep };
  }
}
