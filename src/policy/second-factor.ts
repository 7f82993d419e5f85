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
 */

export interface OrganizationFacts {
  readonly slug: string;
  readonly forceTwoFactor: boolean;
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
  /** The sign-in is for the admin pages or the admin API. */
  readonly adminArea: boolean;
}

/** What a request adds to the stored facts. */
export type SecondFactorRequest = Pick<SecondFactorFacts, 'relyingPartyAsks' | 'adminArea'>;

export type SecondFactorReason = 'enrolled' | 'site-required' | 'organization' | 'relying-party' | 'site-admin';

export interface SecondFactorDecision {
  readonly required: boolean;
  readonly reasons: readonly SecondFactorReason[];
  /** Slugs of the organizations that force it. */
  readonly enforcingOrganizations: readonly string[];
}

export function enforcesTwoFactor(organization: OrganizationFacts): boolean {
  return organization.forceTwoFactor && !organization.managesAccount;
}

export function decideSecondFactor(facts: SecondFactorFacts): SecondFactorDecision {
  const enforcingOrganizations = facts.organizations.filter(enforcesTwoFactor).map((organization) => organization.slug);
  const reasons: SecondFactorReason[] = [];
  if (facts.enrolled) reasons.push('enrolled');
  if (facts.siteMode === 'required') reasons.push('site-required');
  if (enforcingOrganizations.length > 0) reasons.push('organization');
  if (facts.relyingPartyAsks) reasons.push('relying-party');
  if (facts.siteAdmin && facts.adminArea) reasons.push('site-admin');
  return { required: reasons.length > 0, reasons, enforcingOrganizations };
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

export type SecondFactorStep = 'none' | 'setup' | 'challenge';

/**
 * What a sign-in must do next. Nothing if this session already reached the two-factor level (its
 * `acr`: Twofold's own second factor, or a provider a site admin trusts for it); otherwise a required
 * user without a second factor sets one up, and one with a second factor proves it. (An admin who
 * resets a user's 2FA also ends their sessions, so no old session outlives a reset.)
 */
export function nextSecondFactorStep(decision: SecondFactorDecision, enrolled: boolean, sessionHasSecondFactor: boolean): SecondFactorStep {
  if (!decision.required || sessionHasSecondFactor) return 'none';
  return enrolled ? 'challenge' : 'setup';
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
