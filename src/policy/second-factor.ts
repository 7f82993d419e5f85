import type { TwoFactorMode } from '../../config/index.js';

/*
 * The rule at the heart of Twofold (docs/rules.md, "When is the second factor required"), as pure
 * functions: no storage, no HTTP. A sign-in needs the second factor when ANY of these holds:
 *   1. the user has activated two-factor authentication;
 *   2. the site-wide mode is `required`;
 *   3. an organization of the user forces it — unless that organization's own identity provider
 *      manages the user's account;
 *   4. the relying party asked for it (acr_values, or an essential acr claim);
 *   5. the user is a site admin and is signing in to the admin area.
 * Which factor does: any (an app, a key, a recovery code), unless an enforcing organization requires
 * a security key or passkey, or the relying party asks for the phishing-resistant level.
 */

/** Whom an organization's enforcement covers: every member, or its owners only. */
export type ApplyTo = 'all' | 'owners';

/** Which second factor an organization's members must have: any, or a security key or passkey (phishing-resistant). */
export type RequiredFactor = 'any' | 'security-key';

export interface OrganizationFacts {
  readonly slug: string;
  readonly forceTwoFactor: boolean;
  /** The user's role in the organization: with `applyTo` 'owners', only owners are held to its enforcement. */
  readonly role: 'owner' | 'member';
  readonly applyTo: ApplyTo;
  /** When enforcement was first switched on; switching it off and on again keeps that moment. Null if never. */
  readonly enforcementStartedAt: Date | null;
  /** When the user joined the organization. */
  readonly joinedAt: Date;
  readonly gracePeriodDays: number;
  /** How long the organization lets a browser be remembered; 0 is never. */
  readonly rememberBrowserDays: number;
  readonly requiredFactor: RequiredFactor;
  /** When the organization first required a security key or passkey; switching back and again keeps that moment. Null if never. */
  readonly keysRequiredSince: Date | null;
  /** A member's first second factor is activated only with a code e-mailed to them as well. */
  readonly confirmSetupByEmail: boolean;
  /**
   * The organization signs this account in at its own identity provider (it is federated, and the
   * account is one that provider manages); its own enforcement then leaves the account to that
   * provider. For any other member it applies as usual.
   */
  readonly managesAccount: boolean;
}

export interface SecondFactorFacts {
  readonly enrolled: boolean;
  readonly siteMode: TwoFactorMode;
  readonly organizations: readonly OrganizationFacts[];
  readonly siteAdmin: boolean;
  readonly relyingPartyAsks: boolean;
  /** The relying party asked for the phishing-resistant level: a security key or passkey, in this sign-in. */
  readonly relyingPartyAsksPhishingResistant?: boolean;
  /** The sign-in is for the admin pages or the admin API. */
  readonly adminArea: boolean;
}

/** What a request adds to the stored facts. */
export type SecondFactorRequest = Pick<SecondFactorFacts, 'relyingPartyAsks' | 'relyingPartyAsksPhishingResistant' | 'adminArea'>;

export type SecondFactorReason = 'enrolled' | 'site-required' | 'organization' | 'relying-party' | 'site-admin';

export interface SecondFactorDecision {
  readonly required: boolean;
  readonly reasons: readonly SecondFactorReason[];
  /** Slugs of the organizations that force it. */
  readonly enforcingOrganizations: readonly string[];
  /** The decision is for the admin pages or the admin API, where only a real second factor counts. */
  readonly adminArea: boolean;
  /** Only a security key or passkey will do as the user's factor: an enforcing organization requires one, or the relying party asks for it. */
  readonly keysRequired: boolean;
  /** The relying party asked for the phishing-resistant level: this sign-in itself must use a key. */
  readonly phishingResistantAsked: boolean;
}

export function enforcesTwoFactor(organization: Pick<OrganizationFacts, 'forceTwoFactor' | 'managesAccount' | 'role' | 'applyTo'>): boolean {
  return organization.forceTwoFactor && !organization.managesAccount && (organization.applyTo === 'all' || organization.role === 'owner');
}

export function decideSecondFactor(facts: SecondFactorFacts): SecondFactorDecision {
  const enforcing = facts.organizations.filter(enforcesTwoFactor);
  const phishingResistantAsked = facts.relyingPartyAsksPhishingResistant === true;
  const reasons: SecondFactorReason[] = [];
  if (facts.enrolled) reasons.push('enrolled');
  if (facts.siteMode === 'required') reasons.push('site-required');
  if (enforcing.length > 0) reasons.push('organization');
  if (facts.relyingPartyAsks || phishingResistantAsked) reasons.push('relying-party');
  if (facts.siteAdmin && facts.adminArea) reasons.push('site-admin');
  return {
    required: reasons.length > 0,
    reasons,
    enforcingOrganizations: enforcing.map((organization) => organization.slug),
    adminArea: facts.adminArea,
    keysRequired: phishingResistantAsked || enforcing.some((organization) => organization.requiredFactor === 'security-key'),
    phishingResistantAsked,
  };
}

/**
 * Required by a rule the user cannot change themselves: the site mode, an organization, or being a
 * site admin (who needs it for the admin area whenever they use it).
 */
export function isMandatedForUser(facts: Omit<SecondFactorFacts, 'enrolled' | keyof SecondFactorRequest>): boolean {
  return decideSecondFactor({ ...facts, enrolled: false, relyingPartyAsks: false, adminArea: true }).required;
}

/** The account page offers "Activate 2FA" unless the site mode is `off` or it is active already. */
export function canActivate(facts: Pick<SecondFactorFacts, 'enrolled' | 'siteMode'>): boolean {
  return !facts.enrolled && facts.siteMode !== 'off';
}

/** "Deactivate 2FA" only when nothing but the user's own choice requires it. */
export function canDeactivate(facts: Omit<SecondFactorFacts, keyof SecondFactorRequest>): boolean {
  return facts.enrolled && !isMandatedForUser(facts);
}

/**
 * What a sign-in must do next: nothing; `grace` — the member may still put setup off (the
 * interstitial, docs/rules.md "Rolling enforcement out"); set up a second factor; or prove one.
 */
export type SecondFactorStep = 'none' | 'grace' | 'setup' | 'challenge';

/**
 * How far the session got: the password only; a browser the user asked us to remember after a real
 * second factor (docs/rules.md, "Remembered browsers"); or the two-factor level (its `acr`: Twofold's
 * own second factor, or a provider a site admin trusts for it); or two factors one of which was a
 * security key or passkey, the phishing-resistant level.
 */
export type SessionLevel = 'password' | 'remembered-browser' | 'two-factor' | 'phishing-resistant';

/** The reasons a remembered browser may stand in for: never a relying party's explicit request, nor a site admin's admin area. */
const REMEMBERABLE: ReadonlySet<SecondFactorReason> = new Set(['enrolled', 'site-required', 'organization']);

/**
 * Whether a remembered browser may stand in for the second factor this decision requires
 * (docs/rules.md, "Remembered browsers"): only for reasons a browser can remember, and never in the
 * admin area — an owner's powers over her members, like a site admin's, need a real second factor.
 */
export function rememberedBrowserSuffices(decision: SecondFactorDecision): boolean {
  return !decision.adminArea && decision.reasons.every((reason) => REMEMBERABLE.has(reason));
}

export interface StepFacts {
  readonly enrolled: boolean;
  /** The user has a security key or passkey. */
  readonly hasKey: boolean;
  readonly level: SessionLevel;
  /** The user's setup deadline (`setupDeadline`), or null when no grace applies. */
  readonly deadline: Date | null;
  /** The deadline to add a security key where organizations require one (`keyDeadline`), or null. */
  readonly keyDeadline: Date | null;
  readonly now: Date;
}

/**
 * What a sign-in must do next. A required user without a second factor may put setup off only while
 * organizations alone require it and their deadline is ahead; any other reason (the site mode, a
 * relying party's request, the admin area) asks for setup at once. Where a security key or passkey is
 * required, a user who has one proves it (`challenge`: the page then offers the key, not the app);
 * one who has only an app first proves that, then adds a key — put off until the organizations'
 * deadline for keys, at once for a relying party that asks for the phishing-resistant level. (An
 * admin who resets a user's 2FA also ends their sessions, so no old session outlives a reset.)
 */
export function nextSecondFactorStep(decision: SecondFactorDecision, facts: StepFacts): SecondFactorStep {
  if (!decision.required) return 'none';
  const keyDue = decision.keysRequired && !facts.hasKey;
  const proven = facts.level === 'two-factor' || facts.level === 'phishing-resistant';
  const keyProven = facts.level === 'phishing-resistant' || !decision.phishingResistantAsked;
  if (proven && keyProven && !keyDue) return 'none';
  if (facts.level === 'remembered-browser' && !keyDue && rememberedBrowserSuffices(decision)) return 'none';
  if (!facts.enrolled) return inGracePeriod(decision, facts.deadline, facts.now) ? 'grace' : 'setup';
  if (!proven || facts.hasKey) return 'challenge';
  const keyGrace = !decision.phishingResistantAsked && facts.keyDeadline !== null && facts.now.getTime() < facts.keyDeadline.getTime();
  return keyGrace ? 'grace' : 'setup';
}

/** Which factors the challenge offers: a key where one is required and the user has one, never the app then; no recovery code for a relying party that asks for a key. */
export interface ChallengeOffer {
  readonly app: boolean;
  readonly key: boolean;
  readonly recoveryCode: boolean;
}

export function challengeOffer(decision: Pick<SecondFactorDecision, 'keysRequired' | 'phishingResistantAsked'>, factors: { readonly hasApp: boolean; readonly hasKey: boolean }): ChallengeOffer {
  const keyOnly = factors.hasKey && decision.keysRequired;
  return { app: factors.hasApp && !keyOnly, key: factors.hasKey, recoveryCode: !(decision.phishingResistantAsked && factors.hasKey) };
}

/**
 * Whether a session at this step may use what it reached without an interaction: the token endpoint,
 * the admin API and Twofold's own apps ask this. A member in the grace period may (until the deadline).
 */
export function meetsRule(step: SecondFactorStep): boolean {
  return step === 'none' || step === 'grace';
}

/** Organizations alone require the second factor, and the deadline they set is still ahead. */
export function inGracePeriod(decision: SecondFactorDecision, deadline: Date | null, now: Date): boolean {
  return deadline !== null && now.getTime() < deadline.getTime() && decision.reasons.every((reason) => reason === 'organization');
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The user's deadline to set up a second factor: for each organization that holds them to it, the
 * later of enforcement starting (its first switch-on, so switching it
 * off and on again never moves a deadline later) and the user joining, plus that organization's current grace
 * period; the earliest of these wins. Computed from the current settings every time, so lowering a
 * grace period brings every deadline it gave closer at once. Null when no organization enforces it.
 */
export function setupDeadline(organizations: readonly OrganizationFacts[]): Date | null {
  let earliest: number | null = null;
  for (const organization of organizations.filter(enforcesTwoFactor)) {
    const start = Math.max(organization.enforcementStartedAt?.getTime() ?? organization.joinedAt.getTime(), organization.joinedAt.getTime());
    const deadline = start + organization.gracePeriodDays * DAY_MS;
    if (earliest === null || deadline < earliest) earliest = deadline;
  }
  return earliest === null ? null : new Date(earliest);
}

/**
 * The deadline to add a security key or passkey, for a user whose organizations require one: for each
 * enforcing organization that does, the latest of enforcement starting, keys being first required, and
 * the user joining, plus that organization's grace period; the earliest wins. Null when none does.
 */
export function keyDeadline(organizations: readonly OrganizationFacts[]): Date | null {
  let earliest: number | null = null;
  for (const organization of organizations.filter((candidate) => enforcesTwoFactor(candidate) && candidate.requiredFactor === 'security-key')) {
    const start = Math.max(
      organization.enforcementStartedAt?.getTime() ?? organization.joinedAt.getTime(),
      organization.keysRequiredSince?.getTime() ?? organization.joinedAt.getTime(),
      organization.joinedAt.getTime(),
    );
    const deadline = start + organization.gracePeriodDays * DAY_MS;
    if (earliest === null || deadline < earliest) earliest = deadline;
  }
  return earliest === null ? null : new Date(earliest);
}

/**
 * Whether a user's first second factor must be confirmed with a code e-mailed to them (docs/rules.md,
 * "The first set-up belongs to the person"): the organizations that hold the user to a second factor
 * decide — one asking is enough — and the site-wide setting decides for everyone else. Never for an
 * account an organization's identity provider manages (that provider vouches for it), nor when the
 * mailbox was proven in the last 30 minutes (the sign-in began from an e-mailed link).
 */
export function confirmsFirstSetupByEmail(facts: {
  readonly organizations: readonly OrganizationFacts[];
  readonly siteWide: boolean;
  readonly managedAccount: boolean;
  readonly mailboxProvenAt: Date | null;
  readonly now: Date;
}): boolean {
  if (facts.managedAccount) return false;
  if (facts.mailboxProvenAt && facts.now.getTime() - facts.mailboxProvenAt.getTime() < MAILBOX_PROOF_MS && facts.mailboxProvenAt.getTime() <= facts.now.getTime()) return false;
  const holding = facts.organizations.filter(enforcesTwoFactor);
  return holding.length > 0 ? holding.some((organization) => organization.confirmSetupByEmail) : facts.siteWide;
}

/** How long an e-mailed link's proof of the mailbox spares the e-mailed code at a first set-up. */
export const MAILBOX_PROOF_MS = 30 * 60 * 1000;

/** Whole days left until the deadline, counting a part of a day as one (0 once it has passed). */
export function daysLeft(deadline: Date, now: Date): number {
  return Math.max(0, Math.ceil((deadline.getTime() - now.getTime()) / DAY_MS));
}

/** The reminder e-mails before a deadline (docs/rules.md, "Rolling enforcement out"). */
export type DeadlineReminder = '7-days' | '1-day';

/**
 * Which reminder is due at `now` for a deadline: the 1-day one in the last day, the 7-day one in the
 * six days before. A worker that was down when the 7-day one fell due sends only the 1-day one.
 */
export function dueReminder(deadline: Date, now: Date): DeadlineReminder | null {
  const left = deadline.getTime() - now.getTime();
  if (left <= 0) return null;
  if (left <= DAY_MS) return '1-day';
  if (left <= 7 * DAY_MS) return '7-days';
  return null;
}

/**
 * How many days a browser may be remembered for this user (docs/rules.md, "Remembered browsers"):
 * the strictest organization that holds them to a second factor wins (0 there means never), and the
 * site-wide cap `maxDays` bounds it — and alone decides for users no organization holds to it.
 */
export function rememberBrowserDays(organizations: readonly OrganizationFacts[], maxDays: number): number {
  return Math.min(maxDays, ...organizations.filter(enforcesTwoFactor).map((organization) => organization.rememberBrowserDays));
}

/**
 * Until when a remembered browser counts: its own expiry, or sooner when the allowed days have been
 * lowered since it was remembered (lowering takes effect at once).
 */
export function rememberedUntil(createdAt: Date, expiresAt: Date, allowedDays: number): Date {
  return new Date(Math.min(expiresAt.getTime(), createdAt.getTime() + allowedDays * DAY_MS));
}

/** RFC 8176 values that show a second factor. */
const SECOND_FACTOR_AMR: ReadonlySet<string> = new Set(['mfa', 'otp', 'hwk', 'swk', 'sc']);

/** Whether an RFC 8176 `amr` reports a second factor. */
export function reportsSecondFactor(amr: readonly string[] | undefined): boolean {
  return (amr ?? []).some((value) => SECOND_FACTOR_AMR.has(value));
}

/**
 * Whether an upstream sign-in reached the two-factor level here: only when a site admin trusts that
 * provider for two-factor, it reports a second factor, and the account is not a site admin's (site
 * admins always pass Twofold's own). Otherwise Twofold asks for its own whenever the rule needs one.
 */
export function upstreamReachesTwoFactor(upstreamAmr: readonly string[], trustedForTwoFactor: boolean, siteAdmin: boolean): boolean {
  return trustedForTwoFactor && !siteAdmin && reportsSecondFactor(upstreamAmr);
}
