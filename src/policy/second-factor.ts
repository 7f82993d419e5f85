import type { TwoFactorMode } from '../../config/index.js';

/*
 * The rule at the heart of Twofold (SPEC 1.1), as pure functions: no storage, no HTTP. A sign-in
 * needs the second factor when ANY of these holds:
 *   1. the user has activated two-factor authentication;
 *   2. the site-wide mode is `required`;
 *   3. an organization of the user forces it and is not federated to its own identity provider;
 *   4. the relying party asked for it (acr_values, or an essential acr claim).
 */

export interface OrganizationFacts {
  readonly slug: string;
  readonly forceTwoFactor: boolean;
  /** Federated organizations sign their members in upstream; Twofold's enforcement skips them (SPEC 1.2). */
  readonly federated: boolean;
}

export interface SecondFactorFacts {
  readonly enrolled: boolean;
  readonly siteMode: TwoFactorMode;
  readonly organizations: readonly OrganizationFacts[];
  readonly relyingPartyAsks: boolean;
}

export type SecondFactorReason = 'enrolled' | 'site-required' | 'organization' | 'relying-party';

export interface SecondFactorDecision {
  readonly required: boolean;
  readonly reasons: readonly SecondFactorReason[];
  /** Slugs of the organizations that force it. */
  readonly enforcingOrganizations: readonly string[];
}

export function enforcesTwoFactor(organization: OrganizationFacts): boolean {
  return organization.forceTwoFactor && !organization.federated;
}

export function decideSecondFactor(facts: SecondFactorFacts): SecondFactorDecision {
  const enforcingOrganizations = facts.organizations.filter(enforcesTwoFactor).map((organization) => organization.slug);
  const reasons: SecondFactorReason[] = [];
  if (facts.enrolled) reasons.push('enrolled');
  if (facts.siteMode === 'required') reasons.push('site-required');
  if (enforcingOrganizations.length > 0) reasons.push('organization');
  if (facts.relyingPartyAsks) reasons.push('relying-party');
  return { required: reasons.length > 0, reasons, enforcingOrganizations };
}

/** Required by a rule the user cannot change themselves (site mode or an organization). */
export function isMandatedForUser(facts: Omit<SecondFactorFacts, 'enrolled' | 'relyingPartyAsks'>): boolean {
  return decideSecondFactor({ ...facts, enrolled: false, relyingPartyAsks: false }).required;
}

/** The account page offers "Activate 2FA" unless the site mode is `off` or it is active already. */
export function canActivate(facts: Pick<SecondFactorFacts, 'enrolled' | 'siteMode'>): boolean {
  return !facts.enrolled && facts.siteMode !== 'off';
}

/** "Deactivate 2FA" only when nothing but the user's own choice requires it. */
export function canDeactivate(facts: Omit<SecondFactorFacts, 'relyingPartyAsks'>): boolean {
  return facts.enrolled && !isMandatedForUser(facts);
}

export type SecondFactorStep = 'none' | 'setup' | 'challenge';

/**
 * What a sign-in must do next. Nothing if this session already passed a second factor (its `amr`
 * says so — Twofold's own, or the one an organization's identity provider reports); otherwise a
 * required user without a second factor sets one up, and one with a second factor proves it. (An
 * admin who resets a user's 2FA also ends their sessions, so no old `amr` outlives a reset.)
 */
export function nextSecondFactorStep(decision: SecondFactorDecision, enrolled: boolean, sessionHasSecondFactor: boolean): SecondFactorStep {
  if (!decision.required || sessionHasSecondFactor) return 'none';
  return enrolled ? 'challenge' : 'setup';
}

/**
 * RFC 8176 values that show a second factor: Twofold's own passcode or recovery code (`otp`, `mfa`),
 * or what an organization's identity provider reports it checked (SPEC 1.2).
 */
const SECOND_FACTOR_AMR: ReadonlySet<string> = new Set(['mfa', 'otp', 'hwk', 'swk', 'sc']);

/** Whether a sign-in's RFC 8176 `amr` shows a second factor. */
export function hasSecondFactor(amr: readonly string[] | undefined): boolean {
  return (amr ?? []).some((value) => SECOND_FACTOR_AMR.has(value));
}
