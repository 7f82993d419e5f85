import type { Config } from '../../config/index.js';
import type { FactorKind, SecondFactorMethod } from '../factors/factor.js';
import { RecoveryCodeFactor, remainingRecoveryCodes } from '../factors/recovery-codes/index.js';
import { TotpFactor, type TotpSetupView } from '../factors/totp/index.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import crypto from 'node:crypto';
import { relyingPartyAsksForSecondFactor, sessionLevelOf, type AcrClaimRequest } from '../policy/acr-request.js';
import { ACR } from '../policy/acr.js';
import {
  decideSecondFactor,
  nextSecondFactorStep,
  rememberBrowserDays,
  rememberedUntil,
  setupDeadline,
  type SecondFactorFacts,
  type SecondFactorRequest,
  type SecondFactorStep,
} from '../policy/second-factor.js';
import type { SecretBox } from '../security/secret-box.js';
import type { RememberedBrowser, SecondFactor, Store, User } from '../store/types.js';
import { actorName, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import type { ApplicationMetrics, SecondFactorOutcome } from './metrics.js';
import { SecondFactorGuard, type ChallengeStanding, type GuardOutcome } from './second-factor-guard.js';
import { readSiteTwoFactorMode } from './site.js';

/** The sentences users see for outcomes every factor shares (shown next to the field). */
export const SECOND_FACTOR_SENTENCES = {
  replayed: 'That code was already used. Wait for the next code in your app.',
  exhausted: 'Too many wrong codes. Go back to the application and sign in again.',
  alreadyEnabled: 'Two-factor authentication is already set up for your account.',
  setupExpired: 'This setup has expired. Scan the new QR code and enter its code.',
} as const;

export function lockedSentence(until: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return `Too many wrong codes for this account. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/** A replayed code is refused as invalid; the counter tells it apart, unless the limits ended the check first. */
function checkOutcome(outcome: GuardOutcome<unknown>, replayed: boolean): SecondFactorOutcome {
  if (outcome.kind === 'invalid' && replayed) return 'replayed';
  return outcome.kind;
}

export type CodeCheck = { readonly ok: true; readonly remainingRecoveryCodes?: number } | { readonly ok: false; readonly error: string; readonly status: number };

/** What an authorization request (or a page of Twofold's own apps) asks of the rule. */
export interface AuthorizationRequestFacts {
  readonly acrValues?: unknown;
  readonly acrClaim?: AcrClaimRequest | undefined;
  /** The request is for the admin pages or the admin API. */
  readonly adminArea: boolean;
}

export type UserFacts = Omit<SecondFactorFacts, keyof SecondFactorRequest> & { readonly secondFactor: SecondFactor | null };

/**
 * The browser a request comes from, where there is one (the sign-in pages): its remembered-browser
 * token, if it has one. Without a browser (the token endpoint, the admin API) a session's level is
 * taken as its `acr` says.
 */
export interface BrowserFacts {
  readonly rememberedToken: string | undefined;
}

/** A browser remembered just now: the token goes into the browser's cookie, and is stored only hashed. */
export interface NewRememberedBrowser {
  readonly token: string;
  readonly expiresAt: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/**
 * The second factor of a user, whatever the factor: the rule applied to them (src/policy), setting
 * up an authenticator app, checking codes of any factor under the same attempt limits and lockout,
 * replacing recovery codes, and removing it all — with the audit entries and e-mails that go with
 * each. Every factor is a folder under src/factors behind one interface; the sign-in pages and the
 * account page come here.
 */
export class SecondFactorService {
  readonly #guard: SecondFactorGuard;
  readonly #totp: TotpFactor;
  readonly #recoveryCodes: RecoveryCodeFactor;
  readonly #methods: ReadonlyMap<FactorKind, SecondFactorMethod>;

  constructor(
    private readonly store: Pick<Store, 'secondFactors' | 'enrollments' | 'attempts' | 'settings' | 'memberships' | 'organizations' | 'oidc' | 'rememberedBrowsers'>,
    box: SecretBox,
    private readonly config: Config,
    private readonly mailer: Mailer,
    private readonly log: Logger,
    private readonly audit: AuditLog,
    private readonly metrics: ApplicationMetrics,
  ) {
    this.#guard = new SecondFactorGuard(store.attempts, config.lockout);
    this.#totp = new TotpFactor(store, box, config.siteName);
    this.#recoveryCodes = new RecoveryCodeFactor(store, box);
    this.#methods = new Map<FactorKind, SecondFactorMethod>([[this.#totp.kind, this.#totp], [this.#recoveryCodes.kind, this.#recoveryCodes]]);
  }

  /** Everything the rule needs about this user, but the request. */
  async facts(user: User): Promise<UserFacts> {
    const [secondFactor, siteMode, memberships] = await Promise.all([
      this.store.secondFactors.find(user.id),
      readSiteTwoFactorMode(this.store.settings),
      this.store.memberships.listByUser(user.id),
    ]);
    const organizations = new Map((await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId))).map((organization) => [organization.id, organization]));
    return {
      secondFactor,
      enrolled: secondFactor !== null,
      siteMode,
      siteAdmin: user.siteAdmin,
      organizations: memberships.flatMap((membership) => {
        const organization = organizations.get(membership.organizationId);
        return organization ? [{
          slug: organization.slug,
          forceTwoFactor: organization.forceTwoFactor,
          managesAccount: organization.federation !== null && user.managedBy === organization.id,
          role: membership.role,
          applyTo: organization.applyTo,
          enforcementStartedAt: organization.enforcementStartedAt,
          joinedAt: membership.createdAt,
          gracePeriodDays: organization.gracePeriodDays,
          rememberBrowserDays: organization.rememberBrowserDays,
        }] : [];
      }),
    };
  }

  /** The user's deadline to set up a second factor (docs/rules.md, "Rolling enforcement out"), or null when no organization sets one. */
  async deadline(user: User): Promise<Date | null> {
    return setupDeadline((await this.facts(user)).organizations);
  }

  /**
   * The rule applied to a user, a request and the level the session reached (its `acr`): what the
   * sign-in must do next. The sign-in pages, Twofold's own apps, the admin API and the token
   * endpoint all ask here. With a browser at hand, a remembered-browser level counts only while that
   * browser's record still does.
   */
  async stepFor(user: User, request: AuthorizationRequestFacts, sessionAcr: unknown, browser?: BrowserFacts, now = new Date()): Promise<SecondFactorStep> {
    const facts = await this.facts(user);
    const decision = decideSecondFactor({
      ...facts,
      relyingPartyAsks: relyingPartyAsksForSecondFactor(request.acrValues, request.acrClaim),
      adminArea: request.adminArea,
    });
    let level = sessionLevelOf(sessionAcr);
    if (level === 'remembered-browser' && browser && !(await this.#remembered(user, facts, browser.rememberedToken, now))) level = 'password';
    return nextSecondFactorStep(decision, { enrolled: facts.enrolled, level, deadline: setupDeadline(facts.organizations), now });
  }

  /**
   * The `acr` a password sign-in on this browser reaches before any second factor: the
   * remembered-browser level while the browser is remembered for this user, else the password level.
   */
  async passwordSignInAcr(user: User, browser: BrowserFacts, now = new Date()): Promise<string> {
    return (await this.#remembered(user, await this.facts(user), browser.rememberedToken, now)) ? ACR.rememberedBrowser : ACR.password;
  }

  /** A sign-in put setup off in its grace period (counted, with no factor checked). */
  skippedInGrace(): void {
    this.metrics.secondFactorCheck('totp', 'skipped_in_grace');
  }

  /** A sign-in went through on a remembered browser instead of a second factor (counted). */
  passedOnRememberedBrowser(): void {
    this.metrics.secondFactorCheck('totp', 'remembered');
  }

  /** How many days a browser may be remembered for this user now; 0 when it may not be (docs/rules.md, "Remembered browsers"). */
  async rememberBrowserDays(user: User): Promise<number> {
    return rememberBrowserDays((await this.facts(user)).organizations, this.config.rememberBrowserMaxDays);
  }

  async #remembered(user: User, facts: UserFacts, token: string | undefined, now: Date): Promise<boolean> {
    if (!token || !facts.enrolled) return false;
    const record = await this.store.rememberedBrowsers.findByTokenHash(hashToken(token));
    if (!record || record.userId !== user.id) return false;
    const allowed = rememberBrowserDays(facts.organizations, this.config.rememberBrowserMaxDays);
    return now.getTime() < rememberedUntil(record.createdAt, record.expiresAt, allowed).getTime();
  }

  /**
   * Remembers this browser for the user after a second factor, for as many days as the rules allow
   * now; null when they allow none. Only the token's SHA-256 is stored.
   */
  async rememberBrowser(user: User, description: string, ip: string, now = new Date()): Promise<NewRememberedBrowser | null> {
    const days = await this.rememberBrowserDays(user);
    if (days === 0) return null;
    const token = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + days * DAY_MS);
    await this.store.rememberedBrowsers.create({ userId: user.id, tokenHash: hashToken(token), description: description.slice(0, 200) || 'A browser', createdAt: now, expiresAt });
    await this.audit.recordForUser('remembered_browser.added', user, { actor: user, ip, details: { days } });
    return { token, expiresAt };
  }

  /** The user's remembered browsers, with until when each still counts under today's settings. */
  async rememberedBrowsers(user: User, now = new Date()): Promise<Array<RememberedBrowser & { readonly until: Date }>> {
    const allowed = await this.rememberBrowserDays(user);
    return (await this.store.rememberedBrowsers.listByUser(user.id))
      .map((browser) => ({ ...browser, until: rememberedUntil(browser.createdAt, browser.expiresAt, allowed) }))
      .filter((browser) => browser.until.getTime() > now.getTime());
  }

  /** Forgets one of the user's remembered browsers (Remove on the account page). */
  async forgetBrowser(user: User, id: string, ip: string): Promise<boolean> {
    if (!(await this.store.rememberedBrowsers.remove(user.id, id))) return false;
    await this.audit.recordForUser('remembered_browser.removed', user, { actor: user, ip, details: { why: 'removed on the account page' } });
    return true;
  }

  /**
   * Forgets every remembered browser of the user: whenever what they proved with them may no longer
   * hold (docs/rules.md, "Remembered browsers" lists when).
   */
  async forgetAllBrowsers(user: User, why: string, context: { actor: Actor; ip: string | null }): Promise<number> {
    const count = await this.store.rememberedBrowsers.removeAllOf(user.id);
    if (count > 0) await this.audit.recordForUser('remembered_browser.removed', user, { actor: context.actor, ip: context.ip, details: { why, count } });
    return count;
  }

  /** The authenticator-app setup held under `holdId`, or a new one with a fresh secret. */
  enrollment(holdId: string, user: User): Promise<TotpSetupView> {
    return this.#totp.begin(holdId, user);
  }

  /** Whether an authenticator-app setup is waiting under `holdId` for its first code. */
  enrollmentPending(holdId: string, user: User): Promise<boolean> {
    return this.#totp.pending(holdId, user);
  }

  /**
   * Proves the held secret with a code and saves it, with a new set of recovery codes held (sealed)
   * under the same id until the person has seen them.
   */
  async completeEnrollment(holdId: string, user: User, input: string, ip: string): Promise<CodeCheck> {
    const proof = await this.#totp.prove(holdId, user, input);
    if (!proof.ok) {
      if (proof.reason === 'malformed') return { ok: false, error: proof.problem, status: 400 };
      if (proof.reason === 'invalid') return { ok: false, error: this.#totp.invalidSentence, status: 400 };
      return { ok: false, error: (await this.#recoveryCodes.held(holdId, user)) ? SECOND_FACTOR_SENTENCES.alreadyEnabled : SECOND_FACTOR_SENTENCES.setupExpired, status: 400 };
    }
    const recovery = await this.#recoveryCodes.newSet();
    const enabled = await this.store.secondFactors.enable({
      userId: user.id,
      sealedSecret: proof.sealedSecret,
      lastTimeStep: proof.timeStep,
      recoveryKeyId: recovery.keyId,
      recoveryCodeHashes: recovery.hashes,
    });
    if (!enabled) return { ok: false, error: SECOND_FACTOR_SENTENCES.alreadyEnabled, status: 409 };
    await this.#recoveryCodes.hold(holdId, user, recovery.codes);
    this.log.info('two-factor authentication enabled', { userId: user.id });
    await this.audit.recordForUser('two_factor.enabled', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'two-factor-enabled' });
    return { ok: true };
  }

  /**
   * A new phone: the secret held under `holdId` replaces the user's current one once a code proves it;
   * until then the old app keeps working. The recovery codes stay.
   */
  async replaceAuthenticator(holdId: string, user: User, input: string, ip: string): Promise<CodeCheck> {
    const proof = await this.#totp.prove(holdId, user, input);
    if (!proof.ok) {
      if (proof.reason === 'malformed') return { ok: false, error: proof.problem, status: 400 };
      if (proof.reason === 'invalid') return { ok: false, error: this.#totp.invalidSentence, status: 400 };
      return { ok: false, error: SECOND_FACTOR_SENTENCES.setupExpired, status: 400 };
    }
    if (!(await this.store.secondFactors.replaceSecret(user.id, proof.sealedSecret, proof.timeStep))) {
      return { ok: false, error: 'Two-factor authentication is not on for your account, so there is no app to replace.', status: 409 };
    }
    await this.store.enrollments.delete(holdId);
    this.log.info('authenticator app replaced', { userId: user.id });
    await this.audit.recordForUser('two_factor.replaced', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'authenticator-replaced', locals: { ip } });
    return { ok: true };
  }

  /** The recovery codes of a just-finished setup or regeneration, until `forgetEnrollment`; null otherwise. */
  freshRecoveryCodes(holdId: string, user: User): Promise<string[] | null> {
    return this.#recoveryCodes.held(holdId, user);
  }

  forgetEnrollment(holdId: string): Promise<void> {
    return this.store.enrollments.delete(holdId);
  }

  /**
   * Checks a code of the given factor and spends it. Every factor is counted against the same
   * limits — per sign-in (`signInKey`) and per account — before the code is looked at.
   */
  async check(user: User, kind: FactorKind, input: string, signInKey: string, ip: string): Promise<CodeCheck> {
    const method = this.#methods.get(kind)!;
    const parsed = method.parse(input);
    if (!parsed.ok) return { ok: false, error: parsed.problem, status: 400 };
    const { code } = parsed;
    let replayed = false;
    let remaining: number | undefined;
    const outcome = await this.#guard.attempt(user.id, signInKey, async () => {
      const result = await method.verify(user.id, code);
      if (result.kind === 'replayed') replayed = true;
      if (result.kind !== 'accepted') return null;
      remaining = result.remaining;
      return true;
    });
    this.metrics.secondFactorCheck(kind, checkOutcome(outcome, replayed));
    if (replayed) {
      this.log.warn('a replayed passcode was refused', { userId: user.id, ip });
      await this.audit.recordForUser('passcode.replayed', user, { actor: user, ip });
    }
    const checked = await this.#toCheck(user, outcome, ip, replayed ? SECOND_FACTOR_SENTENCES.replayed : method.invalidSentence);
    if (!checked.ok || kind !== 'recovery-code') return checked;
    this.log.info('a recovery code was used', { userId: user.id, ip, remaining });
    await this.audit.recordForUser('recovery_code.used', user, { actor: user, ip, details: { remaining: remaining ?? 0 } });
    await this.mailer.send({ to: user.email, message: 'recovery-code-used', locals: { remaining, ip } });
    return { ok: true, remainingRecoveryCodes: remaining ?? 0 };
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
          await this.mailer.send({ to: user.email, message: 'second-factor-failures', locals: { failures: outcome.failures, ip } });
        }
        return { ok: false, error: SECOND_FACTOR_SENTENCES.exhausted, status: 429 };
      case 'locked':
        if (outcome.justLocked) {
          this.metrics.lockout('second_factor');
          this.log.warn('account locked after repeated wrong second-factor codes', { userId: user.id, ip, until: outcome.until.toISOString() });
          await this.audit.recordForUser('second_factor.locked', user, { actor: null, ip, details: { failures: outcome.failures, until: outcome.until.toISOString() } });
          await this.mailer.send({
            to: user.email,
            message: 'second-factor-failures',
            locals: { failures: outcome.failures, ip, lockedMinutes: this.config.lockout.secondFactorMinutes },
          });
        }
        return { ok: false, error: lockedSentence(outcome.until), status: 429 };
    }
  }

  /** Whether the challenge can take a code now: this sign-in may have used up its attempts, or the account be locked. */
  standing(user: User, signInKey: string): Promise<ChallengeStanding> {
    return this.#guard.standing(user.id, signInKey);
  }

  async recoveryCodesLeft(user: User): Promise<number> {
    return remainingRecoveryCodes(await this.store.secondFactors.find(user.id));
  }

  /** Replaces the whole set of recovery codes; the new ones wait under `holdId` to be shown once. */
  async regenerateRecoveryCodes(user: User, holdId: string, ip: string): Promise<boolean> {
    const codes = await this.#recoveryCodes.replace(user.id);
    if (!codes) return false;
    await this.#recoveryCodes.hold(holdId, user, codes);
    this.log.info('recovery codes regenerated', { userId: user.id });
    await this.audit.recordForUser('recovery_codes.regenerated', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'recovery-codes-regenerated' });
    return true;
  }

  /**
   * Removes every factor of the user; the next setup starts with a new secret. By the user
   * themselves, or — for a lost device — by an owner, a site admin or the operator, which also ends
   * the user's sessions. Who may do it to whom is decided by the caller (members, users).
   */
  async disable(user: User, context: { actor: Actor; ip: string | null; reason?: string }): Promise<boolean> {
    if (!(await this.store.secondFactors.disable(user.id))) return false;
    const byUser = context.actor?.id === user.id;
    this.log.info('two-factor authentication disabled', { userId: user.id, by: byUser ? 'the user' : context.actor?.id ?? 'the operator' });
    await this.audit.recordForUser(byUser ? 'two_factor.disabled' : 'two_factor.reset_by_admin', user, {
      actor: context.actor,
      ip: context.ip,
      details: context.reason ? { reason: context.reason } : {},
    });
    if (!byUser) await this.store.oidc.endSessionsOf(user.id);
    await this.forgetAllBrowsers(user, 'two-factor authentication was turned off', context);
    await this.mailer.send({ to: user.email, message: 'two-factor-disabled', locals: { actor: byUser ? undefined : actorName(context.actor), reason: context.reason } });
    return true;
  }

  remainingRecoveryCodes(record: SecondFactor | null): number {
    return remainingRecoveryCodes(record);
  }
}
