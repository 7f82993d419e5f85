import type { Config } from '../../config/index.js';
import type { Actor, AuditLog } from '../audit/audit-log.js';
import { getSiteTwoFactorMode } from '../directory/site-settings.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import type { SecondFactorFacts, SecondFactorRequest } from '../policy/second-factor.js';
import type { SecretBox } from '../security/secret-box.js';
import type { SecondFactor, Store, User } from '../store/types.js';
import { qrCodeDataUrl } from './qr-code.js';
import {
  RECOVERY_PEPPER_PURPOSE,
  hashRecoveryCode,
  newRecoveryCodes,
  normalizeRecoveryCode,
  recoveryCodeMatches,
} from './recovery-codes.js';
import { SecondFactorGuard, type GuardOutcome } from './second-factor-guard.js';
import { formatSecret, matchTotp, newTotpSecret, otpauthUri, parsePasscode } from './totp.js';

/** The sentences users see for second-factor outcomes (shown next to the field). */
export const SECOND_FACTOR_SENTENCES = {
  malformedPasscode: 'Enter the 6-digit code from your authenticator app.',
  invalid: 'That code is not valid or has expired.',
  replayed: 'That code was already used. Wait for the next code in your app.',
  exhausted: 'Too many wrong codes. Go back to the application and sign in again.',
  malformedRecoveryCode: 'A recovery code has 10 letters and digits, like abcde-23456.',
  invalidRecoveryCode: 'That recovery code is not valid or was already used.',
  alreadyEnabled: 'Two-factor authentication is already set up for your account.',
  setupExpired: 'This setup has expired. Scan the new QR code and enter its code.',
} as const;

export function lockedSentence(until: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return `Too many wrong codes for this account. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

export type CodeCheck = { readonly ok: true; readonly remainingRecoveryCodes?: number } | { readonly ok: false; readonly error: string; readonly status: number };

export interface EnrollmentView {
  readonly secret: string;
  readonly uri: string;
  readonly qrCode: string;
}

const ENROLLMENT_TTL_MS = 60 * 60 * 1000;
const totpContext = (userId: string) => `totp:${userId}`;
const codesContext = (enrollmentId: string) => `enrollment-codes:${enrollmentId}`;
const pendingSecretContext = (enrollmentId: string) => `enrollment-secret:${enrollmentId}`;

/**
 * Setting up, checking and removing a user's second factor — TOTP and recovery codes — with the
 * brute-force limits and e-mails that go with them. HTTP-free: the interaction pages and the account
 * page both use it.
 */
export class SecondFactorService {
  readonly #guard: SecondFactorGuard;

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly config: Config,
    private readonly mailer: Mailer,
    private readonly log: Logger,
    private readonly audit: AuditLog,
  ) {
    this.#guard = new SecondFactorGuard(store.attempts, config.lockout);
  }

  /** Everything the rule in src/policy needs about this user, but the request. */
  async facts(user: User): Promise<Omit<SecondFactorFacts, keyof SecondFactorRequest> & { secondFactor: SecondFactor | null }> {
    const [secondFactor, siteMode, memberships] = await Promise.all([
      this.store.secondFactors.find(user.id),
      getSiteTwoFactorMode(this.store.settings),
      this.store.memberships.listByUser(user.id),
    ]);
    const organizations = await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId));
    return {
      secondFactor,
      enrolled: secondFactor !== null,
      siteMode,
      siteAdmin: user.siteAdmin,
      organizations: organizations.map((organization) => ({
        slug: organization.slug,
        forceTwoFactor: organization.forceTwoFactor,
        managesAccount: organization.federation !== null && user.managedBy === organization.id,
      })),
    };
  }

  /** The setup in progress under `enrollmentId`, or a new one with a fresh secret. */
  async enrollment(enrollmentId: string, user: User): Promise<EnrollmentView> {
    let pending = await this.store.enrollments.find(enrollmentId);
    if (!pending?.sealedSecret || pending.userId !== user.id || pending.sealedRecoveryCodes !== null) {
      pending = { id: enrollmentId, userId: user.id, sealedSecret: this.box.seal(newTotpSecret(), pendingSecretContext(enrollmentId)), sealedRecoveryCodes: null, expiresAt: new Date(Date.now() + ENROLLMENT_TTL_MS) };
      await this.store.enrollments.put(pending);
    }
    const secret = this.box.open(pending.sealedSecret!, pendingSecretContext(enrollmentId));
    const uri = otpauthUri(this.config.siteName, user.email, secret);
    return { secret: formatSecret(secret), uri, qrCode: await qrCodeDataUrl(uri) };
  }

  /**
   * Proves the pending secret with a code and saves it, with a new set of recovery codes kept (sealed)
   * with the enrollment until the user has seen them.
   */
  async completeEnrollment(enrollmentId: string, user: User, tokenInput: string, ip: string): Promise<CodeCheck> {
    const passcode = parsePasscode(tokenInput);
    if (!passcode) return { ok: false, error: SECOND_FACTOR_SENTENCES.malformedPasscode, status: 400 };
    const pending = await this.store.enrollments.find(enrollmentId);
    if (!pending?.sealedSecret || pending.userId !== user.id || pending.sealedRecoveryCodes !== null) {
      return { ok: false, error: pending?.sealedRecoveryCodes ? SECOND_FACTOR_SENTENCES.alreadyEnabled : SECOND_FACTOR_SENTENCES.setupExpired, status: 400 };
    }
    const secret = this.box.open(pending.sealedSecret, pendingSecretContext(enrollmentId));
    const timeStep = await matchTotp(secret, passcode);
    if (timeStep === null) return { ok: false, error: SECOND_FACTOR_SENTENCES.invalid, status: 400 };

    const codes = newRecoveryCodes();
    const enabled = await this.store.secondFactors.enable({
      userId: user.id,
      sealedSecret: this.box.seal(secret, totpContext(user.id)),
      lastTimeStep: timeStep,
      recoveryKeyId: this.box.currentKeyId,
      recoveryCodeHashes: await this.#hashCodes(codes),
    });
    if (!enabled) return { ok: false, error: SECOND_FACTOR_SENTENCES.alreadyEnabled, status: 409 };
    await this.#holdRecoveryCodes(enrollmentId, user, codes);
    this.log.info('two-factor authentication enabled', { userId: user.id });
    await this.audit.recordForUser('two_factor.enabled', user, { actor: user, ip });
    this.mailer.send({ to: user.email, message: 'two-factor-enabled' });
    return { ok: true };
  }

  /** Keeps new recovery codes, sealed, under `holdId` until the user has seen them (`forgetEnrollment`). */
  async #holdRecoveryCodes(holdId: string, user: User, codes: readonly string[]): Promise<void> {
    await this.store.enrollments.put({
      id: holdId,
      userId: user.id,
      sealedSecret: null,
      sealedRecoveryCodes: this.box.seal(JSON.stringify(codes), codesContext(holdId)),
      expiresAt: new Date(Date.now() + ENROLLMENT_TTL_MS),
    });
  }

  /** The recovery codes of a just-finished setup or regeneration, until `forgetEnrollment`; null otherwise. */
  async freshRecoveryCodes(enrollmentId: string, user: User): Promise<string[] | null> {
    const pending = await this.store.enrollments.find(enrollmentId);
    if (!pending || pending.userId !== user.id || pending.sealedRecoveryCodes === null) return null;
    return JSON.parse(this.box.open(pending.sealedRecoveryCodes, codesContext(enrollmentId))) as string[];
  }

  forgetEnrollment(enrollmentId: string): Promise<void> {
    return this.store.enrollments.delete(enrollmentId);
  }

  /** Checks a TOTP passcode; a code is accepted once (the store's conditional update decides races). */
  async checkPasscode(user: User, input: string, signInKey: string, ip: string): Promise<CodeCheck> {
    const passcode = parsePasscode(input);
    if (!passcode) return { ok: false, error: SECOND_FACTOR_SENTENCES.malformedPasscode, status: 400 };
    let replayed = false;
    const outcome = await this.#guard.attempt(user.id, signInKey, async () => {
      const secondFactor = await this.store.secondFactors.find(user.id);
      if (!secondFactor) return null;
      const timeStep = await matchTotp(this.box.open(secondFactor.sealedSecret, totpContext(user.id)), passcode);
      if (timeStep === null) return null;
      if (timeStep > secondFactor.lastTimeStep && (await this.store.secondFactors.acceptTimeStep(user.id, timeStep))) return timeStep;
      replayed = true;
      return null;
    });
    if (replayed) {
      this.log.warn('a replayed passcode was refused', { userId: user.id, ip });
      await this.audit.recordForUser('passcode.replayed', user, { actor: user, ip });
    }
    return this.#toCheck(user, outcome, ip, replayed ? SECOND_FACTOR_SENTENCES.replayed : SECOND_FACTOR_SENTENCES.invalid);
  }

  /** Checks a recovery code and spends it; of two requests racing with the same code, one wins. */
  async useRecoveryCode(user: User, input: string, signInKey: string, ip: string): Promise<CodeCheck> {
    const code = normalizeRecoveryCode(input);
    if (!code) return { ok: false, error: SECOND_FACTOR_SENTENCES.malformedRecoveryCode, status: 400 };
    let remaining = 0;
    const outcome = await this.#guard.attempt(user.id, signInKey, async () => {
      const secondFactor = await this.store.secondFactors.find(user.id);
      if (!secondFactor) return null;
      const pepper = this.box.deriveKey(RECOVERY_PEPPER_PURPOSE, secondFactor.recoveryKeyId);
      const unused = secondFactor.recoveryCodes.filter((candidate) => candidate.usedAt === null);
      for (const candidate of unused) {
        if (await recoveryCodeMatches(candidate.hash, code, pepper)) {
          if (!(await this.store.secondFactors.useRecoveryCode(user.id, candidate.id))) return null;
          remaining = unused.length - 1;
          return candidate.id;
        }
      }
      return null;
    });
    const check = await this.#toCheck(user, outcome, ip, SECOND_FACTOR_SENTENCES.invalidRecoveryCode);
    if (!check.ok) return check;
    this.log.info('a recovery code was used', { userId: user.id, ip, remaining });
    await this.audit.recordForUser('recovery_code.used', user, { actor: user, ip, details: { remaining } });
    this.mailer.send({ to: user.email, message: 'recovery-code-used', locals: { remaining, ip } });
    return { ok: true, remainingRecoveryCodes: remaining };
  }

  async #toCheck(user: User, outcome: GuardOutcome<unknown>, ip: string, invalid: string): Promise<CodeCheck> {
    switch (outcome.kind) {
      case 'ok':
        return { ok: true };
      case 'invalid':
        return { ok: false, error: invalid, status: 400 };
      case 'exhausted':
        if (outcome.justExhausted) {
          this.log.warn('a sign-in used up its second-factor attempts', { userId: user.id, ip });
          this.mailer.send({ to: user.email, message: 'second-factor-failures', locals: { failures: outcome.failures, ip } });
        }
        return { ok: false, error: SECOND_FACTOR_SENTENCES.exhausted, status: 429 };
      case 'locked':
        if (outcome.justLocked) {
          this.log.warn('account locked after repeated wrong second-factor codes', { userId: user.id, ip, until: outcome.until.toISOString() });
          await this.audit.recordForUser('second_factor.locked', user, { actor: null, ip, details: { failures: outcome.failures, until: outcome.until.toISOString() } });
          this.mailer.send({
            to: user.email,
            message: 'second-factor-failures',
            locals: { failures: outcome.failures, ip, lockedMinutes: this.config.lockout.secondFactorMinutes },
          });
        }
        return { ok: false, error: lockedSentence(outcome.until), status: 429 };
    }
  }

  async #hashCodes(codes: readonly string[]): Promise<string[]> {
    const pepper = this.box.deriveKey(RECOVERY_PEPPER_PURPOSE);
    return Promise.all(codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!, pepper)));
  }

  /** Replaces the whole set of recovery codes; the new ones wait under `holdId` to be shown once. */
  async regenerateRecoveryCodes(user: User, holdId: string, ip: string): Promise<boolean> {
    const codes = newRecoveryCodes();
    if (!(await this.store.secondFactors.replaceRecoveryCodes(user.id, this.box.currentKeyId, await this.#hashCodes(codes)))) return false;
    await this.#holdRecoveryCodes(holdId, user, codes);
    this.log.info('recovery codes regenerated', { userId: user.id });
    await this.audit.recordForUser('recovery_codes.regenerated', user, { actor: user, ip });
    this.mailer.send({ to: user.email, message: 'recovery-codes-regenerated' });
    return true;
  }

  /**
   * Removes the secret and the recovery codes; the next setup starts with a new secret. By the user
   * themselves, or — for a lost device — by an organization owner, a site admin, or the operator
   * (actor null), who also ends the user's sessions.
   */
  async disable(user: User, context: { actor: Actor; actorName?: string; ip: string | null; reason?: string }): Promise<boolean> {
    if (!(await this.store.secondFactors.disable(user.id))) return false;
    const byUser = context.actor?.id === user.id;
    this.log.info('two-factor authentication disabled', { userId: user.id, by: byUser ? 'the user' : context.actor?.id ?? 'the operator' });
    await this.audit.recordForUser(byUser ? 'two_factor.disabled' : 'two_factor.reset_by_admin', user, {
      actor: context.actor,
      ip: context.ip,
      details: context.reason ? { reason: context.reason } : {},
    });
    if (!byUser) await this.store.oidc.endSessionsOf(user.id);
    this.mailer.send({ to: user.email, message: 'two-factor-disabled', locals: { actor: byUser ? undefined : context.actorName, reason: context.reason } });
    return true;
  }

  remainingRecoveryCodes(secondFactor: SecondFactor | null): number {
    return secondFactor?.recoveryCodes.filter((code) => code.usedAt === null).length ?? 0;
  }
}
