import crypto from 'node:crypto';
import type { Config } from '../../config/index.js';
import type { FactorKind, SecondFactorMethod } from '../factors/factor.js';
import { RecoveryCodeFactor, remainingRecoveryCodes } from '../factors/recovery-codes/index.js';
import { TotpFactor, type TotpSetupView } from '../factors/totp/index.js';
import { SecurityKeyFactor, relyingPartyOf } from '../factors/webauthn/index.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../mail/mailer.js';
import { relyingPartyAsksForPhishingResistant, relyingPartyAsksForSecondFactor, sessionLevelOf, type AcrClaimRequest } from '../policy/acr-request.js';
import { ACR } from '../policy/acr.js';
import {
  canDeactivate,
  challengeOffer,
  confirmsFirstSetupByEmail,
  decideSecondFactor,
  keyDeadline,
  nextSecondFactorStep,
  type ChallengeOffer,
  rememberBrowserDays,
  rememberedUntil,
  setupDeadline,
  type SecondFactorFacts,
  type SecondFactorRequest,
  type SecondFactorStep,
} from '../policy/second-factor.js';
import type { SecretBox } from '../security/secret-box.js';
import { DuplicateError, type RememberedBrowser, type SecondFactor, type SecurityKey, type Store, type User } from '../store/types.js';
import { SUSPENDED_SENTENCE, isActive } from './account-status.js';
import { actorName, type Actor } from './actor.js';
import type { AuditLog } from './audit-log.js';
import type { ApplicationMetrics, SecondFactorOutcome } from './metrics.js';
import type { SignOuts } from './sign-outs.js';
import { organizationFacts } from './organization-facts.js';
import { SecondFactorGuard, type ChallengeStanding, type GuardOutcome } from './second-factor-guard.js';
import { NotMeLinks, type ReportedFactor } from './not-me-links.js';
import { SetupConfirmation, type EmailCodeCheck, type EmailCodeSending } from './setup-confirmation.js';
import { readSiteSetupConfirmation, readSiteTwoFactorMode } from './site.js';

/** The sentences users see for outcomes every factor shares (shown next to the field). */
export const SECOND_FACTOR_SENTENCES = {
  replayed: 'That code was already used. Wait for the next code in your app.',
  exhausted: 'Too many wrong codes. Go back to the application and sign in again.',
  alreadyEnabled: 'Two-factor authentication is already set up for your account.',
  setupExpired: 'This setup has expired. Scan the new QR code and enter its code.',
  keySetupExpired: 'This step has expired. Try adding your security key or passkey again.',
  keyNotAdded: 'Your security key or passkey did not give a valid answer. Try again, or use another key.',
  keyAlreadyAdded: 'This security key or passkey is already added to an account.',
  keyNameMissing: 'Give the key a name, so that you can tell it from others later (for example "Blue YubiKey").',
  keyNameTooLong: 'Use a name of at most 60 characters.',
  keyNotFound: 'That security key or passkey is not on your account.',
  passkeyNotAccepted: 'That passkey was not accepted. Try again, or sign in with your email and password.',
  lastKeyRequired: 'This is your only second factor, and your organization or this site requires one. Add another key or an authenticator app first.',
} as const;

const KEY_NAME_MAX = 60;
const PASSKEY_CHALLENGE_PURPOSE = 'passkey-sign-in-challenge';
const SETUP_EMAIL_CODE_PURPOSE = 'setup-email-code';

/** A sign-in with a passkey alone: whose account and what it proved, or the sentence to show. */
export type PasskeySignIn =
  | { readonly ok: true; readonly user: User; readonly amr: string; readonly userVerified: boolean }
  | { readonly ok: false; readonly error: string; readonly status: number };

export function lockedSentence(until: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return `Too many wrong codes for this account. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/** A replayed code is refused as invalid; the counter tells it apart, unless the limits ended the check first. */
function checkOutcome(outcome: GuardOutcome<unknown>, replayed: boolean): SecondFactorOutcome {
  if (outcome.kind === 'invalid' && replayed) return 'replayed';
  return outcome.kind;
}

/** `amr`: what the factor proved, for the sign-in's `amr` (RFC 8176): `otp`, or `hwk`/`swk` for a security key. */
export type CodeCheck =
  | { readonly ok: true; readonly amr: string; readonly remainingRecoveryCodes?: number }
  /** `field`: the e-mailed code was what was wrong, not the factor's own. */
  | { readonly ok: false; readonly error: string; readonly status: number; readonly field?: 'emailCode' };

export type KeyAddition = { readonly ok: true; readonly first: boolean; readonly amr: string } | { readonly ok: false; readonly error: string; readonly status: number; readonly field: 'name' | 'key' | 'emailCode' };

/**
 * What confirms a first set-up besides the factor itself (docs/rules.md, "The first set-up belongs to
 * the person"): the code e-mailed for it, or a recent proof of the mailbox (an e-mailed link used in
 * this browser).
 */
export interface FirstSetupProof {
  readonly emailCode?: string;
  readonly mailboxProvenAt: Date | null;
}

/** Whether a first set-up shown now needs the e-mailed code, and whether one was just sent. */
export type FirstSetupConfirmation = { readonly required: false } | { readonly required: true; readonly sending: EmailCodeSending };

export type KeyRemoval = { readonly ok: true; readonly last: boolean } | { readonly ok: false; readonly error: string; readonly status: number };

/** What an authorization request (or a page of Twofold's own apps) asks of the rule. */
export interface AuthorizationRequestFacts {
  readonly acrValues?: unknown;
  readonly acrClaim?: AcrClaimRequest | undefined;
  /** The request is for the admin pages or the admin API. */
  readonly adminArea: boolean;
}

export type UserFacts = Omit<SecondFactorFacts, keyof SecondFactorRequest> & {
  readonly secondFactor: SecondFactor | null;
  /** The user's security keys and passkeys, oldest first. */
  readonly securityKeys: readonly SecurityKey[];
  /** The user has an authenticator app (not only keys). */
  readonly hasApp: boolean;
};

/**
 * How a remembered-browser level is checked (docs/rules.md, "Remembered browsers"): on a request from
 * the browser itself (the sign-in pages, Twofold's own apps), by its cookie's token; for a code or
 * refresh token redeemed away from it (the token endpoint), by the browser the Twofold session it
 * came from was bound to when it signed in. Without either, that level counts as the password alone.
 */
export type BrowserFacts =
  | { readonly rememberedToken: string | undefined }
  | { readonly signInSessionUid: string | undefined };

/** A password sign-in before any second factor: its `acr`, and the remembered browser it passed on, if any. */
export interface PasswordSignInLevel {
  readonly acr: string;
  readonly rememberedBrowserId: string | null;
}

/** oidc-provider's model store keeps which remembered browser a Twofold session signed in on, by session uid. */
const REMEMBERED_SIGN_IN_MODEL = 'RememberedSignIn';

/** A browser remembered just now: the token goes into the browser's cookie, and is stored only hashed. */
export interface NewRememberedBrowser {
  readonly token: string;
  readonly expiresAt: Date;
}

/** The rule's decision for a user's stored facts and what a request asks. */
function decisionFor(facts: UserFacts, request: AuthorizationRequestFacts) {
  return decideSecondFactor({
    ...facts,
    relyingPartyAsks: relyingPartyAsksForSecondFactor(request.acrValues, request.acrClaim),
    relyingPartyAsksPhishingResistant: relyingPartyAsksForPhishingResistant(request.acrValues, request.acrClaim),
    adminArea: request.adminArea,
  });
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
  readonly #keys: SecurityKeyFactor;
  readonly #confirmation: SetupConfirmation;
  readonly #notMe: NotMeLinks;
  readonly #methods: ReadonlyMap<FactorKind, SecondFactorMethod>;
  /**
   * The facts read for a user, kept with the User object they were read for. A User is read afresh
   * for each request (and each run of a job), so this is for the one request: a sign-in's step asks
   * the rule up to four questions of the same rows, and they are read once. Every change this service
   * makes to a user's factors drops them (`#changing`), so a question asked after it reads again.
   */
  readonly #factsOf = new WeakMap<User, Promise<UserFacts>>();

  constructor(
    private readonly store: Pick<Store, 'users' | 'secondFactors' | 'securityKeys' | 'enrollments' | 'attempts' | 'settings' | 'memberships' | 'organizations' | 'oidc' | 'rememberedBrowsers'>,
    box: SecretBox,
    private readonly config: Config,
    private readonly mailer: Mailer,
    private readonly log: Logger,
    private readonly audit: AuditLog,
    private readonly metrics: ApplicationMetrics,
    private readonly signOuts: Pick<SignOuts, 'endSessions'>,
  ) {
    this.#guard = new SecondFactorGuard(store.attempts, config.lockout);
    this.#totp = new TotpFactor(store, box, config.siteName);
    this.#recoveryCodes = new RecoveryCodeFactor(store, box);
    this.#keys = new SecurityKeyFactor(store, relyingPartyOf(config.issuer, config.siteName), box.deriveKey(PASSKEY_CHALLENGE_PURPOSE));
    this.#confirmation = new SetupConfirmation(store, box.deriveKey(SETUP_EMAIL_CODE_PURPOSE), mailer);
    this.#notMe = new NotMeLinks(store, config.issuer);
    this.#methods = new Map<FactorKind, SecondFactorMethod>([[this.#totp.kind, this.#totp], [this.#recoveryCodes.kind, this.#recoveryCodes], [this.#keys.kind, this.#keys]]);
  }

  /** Everything the rule needs about this user, but the request: read once for each User (see #factsOf). */
  facts(user: User): Promise<UserFacts> {
    let facts = this.#factsOf.get(user);
    if (!facts) {
      facts = this.#readFacts(user);
      this.#factsOf.set(user, facts);
      facts.catch(() => this.#factsOf.delete(user));
    }
    return facts;
  }

  /** Runs a change to the user's factors; the facts read for this User before it no longer hold. */
  async #changing<T>(user: User, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      this.#factsOf.delete(user);
    }
  }

  async #readFacts(user: User): Promise<UserFacts> {
    const [secondFactor, securityKeys, siteMode, memberships] = await Promise.all([
      this.store.secondFactors.find(user.id),
      this.store.securityKeys.listByUser(user.id),
      readSiteTwoFactorMode(this.store.settings),
      this.store.memberships.listByUser(user.id),
    ]);
    const organizations = new Map((await this.store.organizations.findByIds(memberships.map((membership) => membership.organizationId))).map((organization) => [organization.id, organization]));
    return {
      secondFactor,
      securityKeys,
      hasApp: this.#totp.describe(secondFactor) !== null,
      // The second factor exists while the user has an app or a key (the store keeps it so).
      enrolled: secondFactor !== null,
      siteMode,
      siteAdmin: user.siteAdmin,
      organizations: memberships.flatMap((membership) => {
        const organization = organizations.get(membership.organizationId);
        return organization ? [organizationFacts(organization, membership, organization.federation !== null && user.managedBy === organization.id)] : [];
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
   * endpoint all ask here. A remembered-browser level counts only while that browser's record still
   * does, checked through `browser`; without one it is the password level.
   */
  async stepFor(user: User, request: AuthorizationRequestFacts, sessionAcr: unknown, browser?: BrowserFacts, now = new Date()): Promise<SecondFactorStep> {
    const facts = await this.facts(user);
    let level = sessionLevelOf(sessionAcr);
    if (level === 'remembered-browser' && !(await this.#remembered(user, facts, browser, now))) level = 'password';
    return nextSecondFactorStep(decisionFor(facts, request), {
      enrolled: facts.enrolled,
      hasKey: facts.securityKeys.length > 0,
      level,
      deadline: setupDeadline(facts.organizations),
      keyDeadline: keyDeadline(facts.organizations),
      now,
    });
  }

  /** Which factors the challenge offers this user for this request (docs/rules.md, "Phishing-resistant sign-in"). */
  async challengeOffer(user: User, request: AuthorizationRequestFacts): Promise<ChallengeOffer & { readonly keysRequired: boolean }> {
    const facts = await this.facts(user);
    const decision = decisionFor(facts, request);
    return { ...challengeOffer(decision, { hasApp: facts.hasApp, hasKey: facts.securityKeys.length > 0 }), keysRequired: decision.keysRequired };
  }

  /** Whether this user, for this request, must set up (or add) a security key or passkey rather than an app. */
  async keysRequired(user: User, request: AuthorizationRequestFacts): Promise<boolean> {
    return decisionFor(await this.facts(user), request).keysRequired;
  }

  /** The deadline to add a security key or passkey, where the user's organizations require one. */
  async keyDeadline(user: User): Promise<Date | null> {
    return keyDeadline((await this.facts(user)).organizations);
  }

  /**
   * How far a password sign-in on this browser gets before any second factor: the remembered-browser
   * level while the browser is remembered for this user, else the password level.
   */
  async passwordSignInLevel(user: User, browser: BrowserFacts, now = new Date()): Promise<PasswordSignInLevel> {
    const remembered = await this.#remembered(user, await this.facts(user), browser, now);
    return remembered ? { acr: ACR.rememberedBrowser, rememberedBrowserId: remembered.id } : { acr: ACR.password, rememberedBrowserId: null };
  }

  /**
   * Ties a Twofold session to the remembered browser its sign-in passed on, for as long as that
   * browser may be remembered: codes and refresh tokens of the session are then held to its record.
   */
  async bindRememberedSignIn(sessionUid: string, userId: string, browserId: string): Promise<void> {
    const browser = (await this.store.rememberedBrowsers.listByUser(userId)).find((candidate) => candidate.id === browserId);
    if (browser) await this.store.oidc.upsert(REMEMBERED_SIGN_IN_MODEL, sessionUid, { userId, browserId }, browser.expiresAt);
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

  /** The browser's record while it is remembered for this user under today's settings; null otherwise. */
  async #remembered(user: User, facts: UserFacts, browser: BrowserFacts | undefined, now: Date): Promise<RememberedBrowser | null> {
    if (!browser || !facts.enrolled) return null;
    const record = 'rememberedToken' in browser ? await this.#byToken(browser.rememberedToken) : await this.#boundTo(browser.signInSessionUid, user);
    if (!record || record.userId !== user.id) return null;
    const allowed = rememberBrowserDays(facts.organizations, this.config.rememberBrowserMaxDays);
    return now.getTime() < rememberedUntil(record.createdAt, record.expiresAt, allowed).getTime() ? record : null;
  }

  async #byToken(token: string | undefined): Promise<RememberedBrowser | null> {
    return token ? this.store.rememberedBrowsers.findByTokenHash(hashToken(token)) : null;
  }

  async #boundTo(sessionUid: string | undefined, user: User): Promise<RememberedBrowser | null> {
    const binding = sessionUid ? ((await this.store.oidc.find(REMEMBERED_SIGN_IN_MODEL, sessionUid)) as { userId?: unknown; browserId?: unknown } | null) : null;
    if (!binding || binding.userId !== user.id) return null;
    return (await this.store.rememberedBrowsers.listByUser(user.id)).find((browser) => browser.id === binding.browserId) ?? null;
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
  async completeEnrollment(holdId: string, user: User, input: string, ip: string, firstSetup: FirstSetupProof): Promise<CodeCheck> {
    const proof = await this.#totp.prove(holdId, user, input);
    if (!proof.ok) {
      if (proof.reason === 'malformed') return { ok: false, error: proof.problem, status: 400 };
      if (proof.reason === 'invalid') return { ok: false, error: this.#totp.invalidSentence, status: 400 };
      return { ok: false, error: (await this.#recoveryCodes.held(holdId, user)) ? SECOND_FACTOR_SENTENCES.alreadyEnabled : SECOND_FACTOR_SENTENCES.setupExpired, status: 400 };
    }
    const confirmed = await this.#confirmFirstSetup(holdId, user, firstSetup);
    if (!confirmed.ok) return { ...confirmed, field: 'emailCode' };
    const recovery = await this.#recoveryCodes.newSet();
    const enabled = await this.#changing(user, () => this.store.secondFactors.enable({
      userId: user.id,
      sealedSecret: proof.sealedSecret,
      lastTimeStep: proof.timeStep,
      recoveryKeyId: recovery.keyId,
      recoveryCodeHashes: recovery.hashes,
    }));
    if (!enabled) return { ok: false, error: SECOND_FACTOR_SENTENCES.alreadyEnabled, status: 409 };
    await this.#confirmation.spend(holdId);
    await this.#recoveryCodes.hold(holdId, user, recovery.codes);
    this.log.info('two-factor authentication enabled', { userId: user.id });
    await this.audit.recordForUser('two_factor.enabled', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'two-factor-enabled', locals: { notMeUrl: await this.#notMe.create(user, { kind: 'app' }) } });
    return { ok: true, amr: 'otp' };
  }

  /**
   * Whether the first set-up held under `holdId` must be confirmed with an e-mailed code (docs/rules.md,
   * "The first set-up belongs to the person"); if so, a code is sent unless one is still live. Nothing
   * is needed for a user who already has a factor.
   */
  async firstSetupConfirmation(holdId: string, user: User, mailboxProvenAt: Date | null): Promise<FirstSetupConfirmation> {
    if (!(await this.#firstSetupNeedsCode(user, await this.facts(user), mailboxProvenAt))) return { required: false };
    return { required: true, sending: await this.#confirmation.send(holdId, user) };
  }

  /** "Send a new code" on a first set-up's page. */
  resendSetupCode(holdId: string, user: User): Promise<EmailCodeSending> {
    return this.#confirmation.send(holdId, user, { fresh: true });
  }

  async #firstSetupNeedsCode(user: User, facts: UserFacts, mailboxProvenAt: Date | null): Promise<boolean> {
    if (facts.enrolled) return false;
    return confirmsFirstSetupByEmail({
      organizations: facts.organizations,
      siteWide: await readSiteSetupConfirmation(this.store.settings),
      managedAccount: user.managedBy !== null,
      mailboxProvenAt,
      now: new Date(),
    });
  }

  async #confirmFirstSetup(holdId: string, user: User, proof: FirstSetupProof): Promise<EmailCodeCheck> {
    if (!(await this.#firstSetupNeedsCode(user, await this.facts(user), proof.mailboxProvenAt))) return { ok: true };
    const checked = await this.#confirmation.check(holdId, user, proof.emailCode);
    if (!checked.ok && checked.status === 429) {
      this.log.warn('a first set-up ran out of tries for its e-mailed code', { userId: user.id });
      await this.audit.recordForUser('setup.email_code_exhausted', user, { actor: user, ip: null });
    }
    return checked;
  }

  /** Options for adding a security key, with a new challenge held under `holdId` (a sign-in, or an account session after re-authentication). */
  async keyRegistrationOptions(holdId: string, user: User) {
    return this.#keys.registrationOptions(holdId, user, (await this.facts(user)).securityKeys);
  }

  /** The options of an addition begun under `holdId` and not yet answered; null otherwise. */
  heldKeyRegistration(holdId: string, user: User) {
    return this.#keys.heldRegistrationOptions(holdId, user);
  }

  /** Options for signing in with a passkey alone, for the sign-in `holdId`; nothing is stored until it is answered. */
  passkeyOptions(holdId: string) {
    return this.#keys.passkeyOptions(holdId);
  }

  /**
   * A sign-in with a passkey alone (docs/rules.md, "Phishing-resistant sign-in"): whose account it is
   * and what it proved. Once the key names its account, the answer counts against the same per-sign-in
   * limit and account lockout as any factor; a counter that went backwards is audited.
   */
  async signInWithPasskey(holdId: string, input: string, ip: string): Promise<PasskeySignIn> {
    const refused = { ok: false, error: SECOND_FACTOR_SENTENCES.passkeyNotAccepted, status: 400 } as const;
    const ownerId = await this.#keys.ownerOf(input);
    const owner = ownerId ? await this.store.users.findById(ownerId) : null;
    if (!owner) {
      // Spent all the same: the page must be opened again for another try.
      await this.#keys.verifyPasskey(holdId, input);
      this.metrics.secondFactorCheck('security-key', 'invalid');
      return refused;
    }
    let regressed: { keyName: string; counter: number; stored: number } | undefined;
    const outcome = await this.#guard.attempt(owner.id, holdId, async () => {
      const answer = await this.#keys.verifyPasskey(holdId, input);
      if (!answer.ok) regressed = answer.regressed;
      return answer.ok ? answer : null;
    });
    this.metrics.secondFactorCheck('security-key', checkOutcome(outcome, false));
    if (regressed) {
      this.log.warn('a security key answered with a signature counter that went backwards', { userId: owner.id, ip });
      await this.audit.recordForUser('security_key.counter_regressed', owner, { actor: null, ip, details: { name: regressed.keyName, counter: regressed.counter, stored: regressed.stored } });
    }
    // A right answer for a suspended account is told so, as a right password is (docs/rules.md, "People leave").
    if (outcome.kind === 'ok') return isActive(owner) ? { ok: true, user: owner, amr: outcome.value.amr, userVerified: outcome.value.userVerified } : { ok: false, error: SUSPENDED_SENTENCE, status: 403 };
    if (outcome.kind === 'locked') return { ok: false, error: lockedSentence(outcome.until), status: 429 };
    if (outcome.kind === 'exhausted') return { ok: false, error: SECOND_FACTOR_SENTENCES.exhausted, status: 429 };
    return refused;
  }

  /** Options for signing in with one of the user's keys, with a new challenge held under `holdId`; null when the user has none. */
  async keyAuthenticationOptions(holdId: string, user: User) {
    const keys = (await this.facts(user)).securityKeys;
    return keys.length > 0 ? this.#keys.authenticationOptions(holdId, user, keys) : null;
  }

  /**
   * Adds a security key from the browser's answer to the challenge held under `holdId`, which any
   * answer spends (docs/rules.md, "Security keys and passkeys"). The first factor of any kind turns
   * two-factor authentication on: recovery codes are made and held (sealed)
   * under `holdId` until the person has seen them.
   */
  async addSecurityKey(holdId: string, user: User, input: string, typedName: string, ip: string, firstSetup: FirstSetupProof): Promise<KeyAddition> {
    const name = typedName.trim().replace(/\s+/g, ' ');
    // Spent first, whatever else is wrong: a refused addition never leaves a challenge to answer.
    const registration = await this.#keys.register(holdId, user, input, name);
    if (name === '') return { ok: false, error: SECOND_FACTOR_SENTENCES.keyNameMissing, status: 400, field: 'name' };
    if (name.length > KEY_NAME_MAX) return { ok: false, error: SECOND_FACTOR_SENTENCES.keyNameTooLong, status: 400, field: 'name' };
    const confirmed = await this.#confirmFirstSetup(holdId, user, firstSetup);
    if (!confirmed.ok) return { ...confirmed, field: 'emailCode' };
    if (!registration.ok) {
      if (registration.reason === 'expired') return { ok: false, error: SECOND_FACTOR_SENTENCES.keySetupExpired, status: 400, field: 'key' };
      return { ok: false, error: SECOND_FACTOR_SENTENCES.keyNotAdded, status: 400, field: 'key' };
    }
    const recovery = await this.#recoveryCodes.newSet();
    let first: boolean;
    try {
      ({ first } = await this.#changing(user, () => this.store.securityKeys.add(registration.key, { recoveryKeyId: recovery.keyId, recoveryCodeHashes: recovery.hashes })));
    } catch (error) {
      if (error instanceof DuplicateError) return { ok: false, error: SECOND_FACTOR_SENTENCES.keyAlreadyAdded, status: 409, field: 'key' };
      throw error;
    }
    if (first) await this.#recoveryCodes.hold(holdId, user, recovery.codes);
    if (first) await this.#confirmation.spend(holdId);
    this.log.info('security key added', { userId: user.id, first });
    if (first) await this.audit.recordForUser('two_factor.enabled', user, { actor: user, ip });
    await this.audit.recordForUser('security_key.added', user, { actor: user, ip, details: { name } });
    const notMeUrl = await this.#notMe.create(user, { kind: 'key', credentialId: registration.key.credentialId, name });
    await this.mailer.send({ to: user.email, message: 'security-key-added', locals: { keyName: name, first, ip, notMeUrl } });
    return { ok: true, first, amr: this.#keys.amrOf(registration.key) };
  }

  /**
   * Removes one of the user's keys, by the user (re-authenticated by the caller). Refused when it is
   * the last factor while a rule requires one; the last key of a user without an app, when allowed,
   * turns two-factor authentication off.
   */
  async removeSecurityKey(user: User, credentialId: string, ip: string): Promise<KeyRemoval> {
    const facts = await this.facts(user);
    const key = facts.securityKeys.find((candidate) => candidate.credentialId === credentialId);
    if (!key) return { ok: false, error: SECOND_FACTOR_SENTENCES.keyNotFound, status: 404 };
    // The store decides "not the last factor" in the same step as the removal: two removals racing
    // must not leave a user whom a rule holds to a second factor with none.
    const removed = await this.#changing(user, () => this.store.securityKeys.remove(user.id, credentialId, { keepLastFactor: !canDeactivate(facts) }));
    if (removed === 'last-factor-kept') return { ok: false, error: SECOND_FACTOR_SENTENCES.lastKeyRequired, status: 409 };
    if (removed === 'not-found') return { ok: false, error: SECOND_FACTOR_SENTENCES.keyNotFound, status: 404 };
    const last = removed === 'removed-last';
    this.log.info('security key removed', { userId: user.id, last });
    await this.audit.recordForUser('security_key.removed', user, { actor: user, ip, details: { name: key.name } });
    if (last) {
      await this.audit.recordForUser('two_factor.disabled', user, { actor: user, ip });
      await this.forgetAllBrowsers(user, 'two-factor authentication was turned off', { actor: user, ip });
    }
    await this.mailer.send({ to: user.email, message: 'security-key-removed', locals: { keyName: key.name, last, ip } });
    return { ok: true, last };
  }

  /** What a setup just proved, for the sign-in's `amr`: the app's passcode, or the one key a key-only setup added. */
  async setupAmr(user: User): Promise<string> {
    const facts = await this.facts(user);
    const [key] = facts.securityKeys;
    return facts.hasApp || !key ? 'otp' : this.#keys.amrOf(key);
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
    if (!(await this.#changing(user, () => this.store.secondFactors.replaceSecret(user.id, proof.sealedSecret, proof.timeStep)))) {
      return { ok: false, error: 'Two-factor authentication is not on for your account, so there is no app to replace.', status: 409 };
    }
    await this.store.enrollments.delete(holdId);
    this.log.info('authenticator app replaced', { userId: user.id });
    await this.audit.recordForUser('two_factor.replaced', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'authenticator-replaced', locals: { ip, notMeUrl: await this.#notMe.create(user, { kind: 'app' }) } });
    return { ok: true, amr: 'otp' };
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
    let regressed: { keyName: string; counter: number; stored: number } | undefined;
    let remaining: number | undefined;
    let amr = 'otp';
    // The factor spends what it accepts (a time step, a recovery code, a key's counter).
    const outcome = await this.#changing(user, () => this.#guard.attempt(user.id, signInKey, async () => {
      const result = await method.verify(user.id, code, signInKey);
      if (result.kind === 'replayed') replayed = true;
      if (result.kind === 'rejected') regressed = result.regressed;
      if (result.kind !== 'accepted') return null;
      remaining = result.remaining;
      amr = result.amr ?? amr;
      return true;
    }));
    this.metrics.secondFactorCheck(kind, checkOutcome(outcome, replayed));
    if (replayed) {
      this.log.warn('a replayed passcode was refused', { userId: user.id, ip });
      await this.audit.recordForUser('passcode.replayed', user, { actor: user, ip });
    }
    if (regressed) {
      this.log.warn('a security key answered with a signature counter that went backwards', { userId: user.id, ip });
      await this.audit.recordForUser('security_key.counter_regressed', user, { actor: user, ip, details: { name: regressed.keyName, counter: regressed.counter, stored: regressed.stored } });
    }
    const checked = await this.#toCheck(user, outcome, ip, replayed ? SECOND_FACTOR_SENTENCES.replayed : method.invalidSentence, amr);
    if (!checked.ok || kind !== 'recovery-code') return checked;
    this.log.info('a recovery code was used', { userId: user.id, ip, remaining });
    await this.audit.recordForUser('recovery_code.used', user, { actor: user, ip, details: { remaining: remaining ?? 0 } });
    await this.mailer.send({ to: user.email, message: 'recovery-code-used', locals: { remaining, ip } });
    return { ok: true, amr, remainingRecoveryCodes: remaining ?? 0 };
  }

  async #toCheck(user: User, outcome: GuardOutcome<unknown>, ip: string, invalid: string, amr: string): Promise<CodeCheck> {
    switch (outcome.kind) {
      case 'ok':
        return { ok: true, amr };
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
    const codes = await this.#changing(user, () => this.#recoveryCodes.replace(user.id));
    if (!codes) return false;
    await this.#recoveryCodes.hold(holdId, user, codes);
    this.log.info('recovery codes regenerated', { userId: user.id });
    await this.audit.recordForUser('recovery_codes.regenerated', user, { actor: user, ip });
    await this.mailer.send({ to: user.email, message: 'recovery-codes-regenerated', locals: { notMeUrl: await this.#notMe.create(user, { kind: 'recovery-codes' }) } });
    return true;
  }

  /**
   * Removes every factor of the user; the next setup starts with a new secret. By the user
   * themselves, or — for a lost device — by an owner, a site admin or the operator, which also ends
   * the user's sessions. Who may do it to whom is decided by the caller (members, users).
   */
  async disable(user: User, context: { actor: Actor; ip: string | null; reason?: string }): Promise<boolean> {
    if (!(await this.#changing(user, () => this.store.secondFactors.disable(user.id)))) return false;
    const byUser = context.actor?.id === user.id;
    this.log.info('two-factor authentication disabled', { userId: user.id, by: byUser ? 'the user' : context.actor?.id ?? 'the operator' });
    await this.audit.recordForUser(byUser ? 'two_factor.disabled' : 'two_factor.reset_by_admin', user, {
      actor: context.actor,
      ip: context.ip,
      details: context.reason ? { reason: context.reason } : {},
    });
    if (!byUser) await this.signOuts.endSessions(user.id);
    await this.forgetAllBrowsers(user, 'two-factor authentication was turned off', context);
    await this.mailer.send({ to: user.email, message: 'two-factor-disabled', locals: { actor: byUser ? undefined : actorName(context.actor), reason: context.reason } });
    return true;
  }

  /**
   * Takes back a factor its person reported they did not add ("This wasn't me"; docs/rules.md, "The
   * first set-up belongs to the person"): an app, with the whole second factor it is part of (its
   * recovery codes were shown to whoever added it); a key; or a set of recovery codes, replaced by
   * a set nobody sees. The caller suspends the account and ends its sessions.
   */
  async removeReported(user: User, factor: ReportedFactor, ip: string | null): Promise<void> {
    if (factor.kind === 'app') {
      await this.disable(user, { actor: user, ip, reason: 'reported as not added by the person' });
      return;
    }
    if (factor.kind === 'recovery-codes') {
      await this.#changing(user, () => this.#recoveryCodes.replace(user.id));
      await this.audit.recordForUser('recovery_codes.regenerated', user, { actor: user, ip, details: { why: 'reported as not made by the person' } });
      return;
    }
    const removed = await this.#changing(user, () => this.store.securityKeys.remove(user.id, factor.credentialId));
    if (removed === 'not-found') return;
    await this.audit.recordForUser('security_key.removed', user, { actor: user, ip, details: { name: factor.name } });
    if (removed === 'removed-last') {
      await this.audit.recordForUser('two_factor.disabled', user, { actor: user, ip });
      await this.forgetAllBrowsers(user, 'two-factor authentication was turned off', { actor: user, ip });
    }
  }

  remainingRecoveryCodes(record: SecondFactor | null): number {
    return remainingRecoveryCodes(record);
  }
}
