import type { KoaContextWithOIDC } from 'oidc-provider';
import { requestedOrganizations } from '../policy/organization-scope.js';

/**
 * Where the `organization:<slug>` scopes of a sign-in are kept between its steps: an authorization
 * parameter of Twofold's own, which oidc-provider stores with the interaction and the pushed request.
 */
export const ORGANIZATION_SCOPES_PARAM = 'twofold_organization_scopes';

/**
 * oidc-provider knows only the scopes it is configured with — it has no dynamic scopes — and drops
 * any other from the request's scope before the interaction policy runs, at the authorization
 * request and again when it resumes after each interaction. This keeps `organization:<slug>`: taken
 * from the scope the relying party sent in this request (or in the pushed request it redeems) into
 * ORGANIZATION_SCOPES_PARAM, which oidc-provider stores with the interaction, and put back in the
 * scope by `restoreOrganizationScopes` — so that the interaction policy sees it, the grant covers it,
 * and the code and tokens carry it (docs/rules.md, "Organizations in tokens"). Whatever a relying
 * party sends in ORGANIZATION_SCOPES_PARAM itself is replaced. oidc-provider runs this for the
 * authorization and pushed authorization requests, as the validation of that parameter.
 */
export function keepOrganizationScopes(ctx: KoaContextWithOIDC): void {
  const params = ctx.oidc.params!;
  if (ctx.oidc.entities.PushedAuthorizationRequest === undefined) {
    const sent = (ctx.method === 'POST' ? ctx.oidc.body : ctx.query)?.scope;
    const scopes = requestedOrganizations(typeof sent === 'string' ? sent : undefined).map((slug) => `organization:${slug}`);
    params[ORGANIZATION_SCOPES_PARAM] = scopes.length > 0 ? scopes.join(' ') : undefined;
  }
  restoreOrganizationScopes(ctx);
}

/** Puts the kept `organization:<slug>` scopes back in the request's scope (where oidc-provider dropped them again). */
export function restoreOrganizationScopes(ctx: KoaContextWithOIDC): void {
  const params = ctx.oidc.params!;
  const kept = params[ORGANIZATION_SCOPES_PARAM];
  if (typeof kept === 'string' && typeof params.scope === 'string') {
    params.scope = [...new Set([...params.scope.split(' '), ...kept.split(' ')])].join(' ');
  }
}
