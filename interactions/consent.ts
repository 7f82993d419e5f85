import type { RouterContext } from '@koa/router';
import { readForm } from '../src/http/forms.js';
import { render } from '../src/http/views.js';
import { requestedOrganizations } from '../src/policy/organization-scope.js';
import type { InteractionDependencies } from './dependencies.js';
import { finishStep, loadInteraction, type InteractionDetails } from './details.js';

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay signed in when you are not using it',
  organizations: 'See which organizations you belong to, and your role in each',
};

const describeScope = (scope: string) => {
  const [organization] = requestedOrganizations(scope);
  return organization === undefined ? SCOPE_DESCRIPTIONS[scope] ?? scope : `Sign you in for the organization “${organization}”`;
};

export async function showConsent({ provider }: InteractionDependencies, ctx: RouterContext, details: InteractionDetails): Promise<void> {
  const client = await provider.Client.find(String(details.params.client_id));
  const requested = String(details.params.scope ?? '').split(' ').filter(Boolean);
  render(ctx, 'consent', {
    uid: details.uid,
    clientName: client?.clientName ?? String(details.params.client_id),
    permissions: requested.map(describeScope),
  });
}

/** Records the grant for what this request is missing, then resumes the sign-in. */
export async function grantConsent(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails): Promise<void> {
  const { provider } = services;
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await finishStep(details, ctx, { consent: { grantId } });
}

export async function submitConsent(services: InteractionDependencies, ctx: RouterContext): Promise<void> {
  const details = await loadInteraction(services, ctx, 'consent');
  await readForm(ctx);
  await grantConsent(services, ctx, details);
}
