import type { Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SecondFactorService } from '../application/second-factors.js';

/** The key of a login step's interaction result that names the remembered browser the sign-in passed on. */
export const REMEMBERED_BROWSER = 'twofoldRememberedBrowser';

/**
 * Once a sign-in that passed on a remembered browser resumes its authorization request — the moment
 * its Twofold session gets its uid — the session is bound to that browser's record. Codes and refresh
 * tokens of the session, redeemed at the token endpoint where no browser is at hand, are then held to
 * that record: removed or expired, they get no tokens (docs/rules.md, "Remembered browsers").
 */
export function bindRememberedSignIns(secondFactors: Pick<SecondFactorService, 'bindRememberedSignIn'>): Middleware {
  return async (ctx, next) => {
    await next();
    const { oidc } = ctx as KoaContextWithOIDC;
    if (oidc?.route !== 'resume') return;
    const browserId = (oidc.result as Record<string, unknown> | undefined)?.[REMEMBERED_BROWSER];
    const { uid, accountId } = oidc.session ?? {};
    if (typeof browserId === 'string' && uid && accountId) await secondFactors.bindRememberedSignIn(uid, accountId, browserId);
  };
}
