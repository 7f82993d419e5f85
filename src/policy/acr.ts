/**
 * Authentication context class references Twofold reaches, weakest first. Relying parties ask for
 * two-factor sign-in with `acr_values` naming TWO_FACTOR (or the OpenID PAPE multi-factor policy).
 */
export const ACR = Object.freeze({
  password: 'urn:twofold:acr:password',
  twoFactor: 'urn:twofold:acr:two-factor',
  papeMultiFactor: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
  /**
   * Two factors, one of them a security key or passkey — which a look-alike page cannot relay
   * (docs/rules.md, "Phishing-resistant sign-in"). It satisfies a request for the two-factor level too.
   */
  phishingResistant: 'urn:twofold:acr:phishing-resistant',
  /**
   * A password sign-in on a browser the user asked to remember after a second factor (docs/rules.md,
   * "Remembered browsers"). Reported, never requestable: it is not in ACR_VALUES, and it never
   * satisfies a request for the two-factor level.
   */
  rememberedBrowser: 'urn:twofold:acr:remembered-browser',
});

export const ACR_VALUES: readonly string[] = [ACR.password, ACR.twoFactor, ACR.papeMultiFactor, ACR.phishingResistant];
