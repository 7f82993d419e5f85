import type { RouterContext } from '@koa/router';
import { render } from '../src/http/views.js';
import { requestedOrganizations } from '../src/policy/organization-scope.js';
import type { InteractionDependencies } from './dependencies.js';
import { saveResult, type InteractionDetails } from './details.js';

/**
 * The application asked to sign in for one organization (`organization:<slug>`) and the person is not
 * a member of it (docs/rules.md, "Organizations in tokens"): the page says so, and its link back
 * answers the application with `access_denied` — no code, no token. The link is oidc-provider's own
 * resume of the authorization request, with that answer recorded.
 */
export async function showNotAMember(services: InteractionDependencies, ctx: RouterContext, details: InteractionDetails): Promise<void> {
  const requested = requestedOrganizations(String(details.params.scope ?? ''));
  const client = await services.provider.Client.find(String(details.params.client_id));
  const organization = requested.length === 1 ? await services.members.organizationNamed(requested[0]!) : null;
  const user = details.session?.accountId ? await services.signIns.account(details.session.accountId) : null;
  const backUrl = await saveResult(details, {
    error: 'access_denied',
    error_description: requested.length === 1 ? 'The End-User is not a member of the organization requested' : 'A sign-in can be for one organization only',
  }, false);
  render(ctx, 'not-a-member', {
    title: 'Not a member',
    clientName: client?.clientName ?? String(details.params.client_id),
    organizationName: organization?.name ?? requested[0],
    several: requested.length > 1,
    email: user?.email,
    backUrl,
  }, 403);
}
