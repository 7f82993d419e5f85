/**
 * Authentication context class references Twofold reaches, weakest first. Relying parties ask for
 * two-factor sign-in with `acr_values` naming TWO_FACTOR (or the OpenID PAPE multi-factor policy).
 */
export const ACR = Object.freeze({
  password: 'urn:twofold:acr:password',
  twoFactor: 'urn:twofold:acr:two-factor',
  papeMultiFactor: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
});

export const ACR_VALUES: readonly string[] = [ACR.password, ACR.twoFactor, ACR.papeMultiFactor];
